import { Injectable } from '@nestjs/common';
import type { Bearer } from '../access/bearer';
import type { ProductView } from '../catalogue/catalogue.service';
import { NOT_WARM } from '../common/not-warm';
import type { NotWarm } from '../common/not-warm';
import { FeedsFastPath } from '../feeds/feeds.fast-path';
import { FeedsService, mayReadFeed, productNotFound } from '../feeds/feeds.service';
import type { FeedQuery, PlatformGroup } from '../feeds/feeds.service';
import { ApiError } from '../jsonapi/errors';
import { WarmCatalogue } from './warm';

/** The electron and Tauri feeds over the caller's view of the product as memory holds it. */
@Injectable()
export class FeedsFromMemory implements FeedsFastPath {
  constructor(
    private readonly warm: WarmCatalogue,
    private readonly feeds: FeedsService,
  ) {}

  electron(bearer: Bearer, accountId: string, product: string, group: PlatformGroup, query: FeedQuery): string | null | NotWarm {
    const view = this.view(bearer, accountId, product);
    return view === NOT_WARM ? NOT_WARM : this.feeds.electronFrom(view, group, query);
  }

  tauri(bearer: Bearer, accountId: string, product: string, group: PlatformGroup, query: FeedQuery): string | null | NotWarm {
    const view = this.view(bearer, accountId, product);
    return view === NOT_WARM ? NOT_WARM : this.feeds.tauriFrom(view, group, query);
  }

  private view(bearer: Bearer, accountId: string, product: string): ProductView | NotWarm {
    const view = this.warm.productView(bearer, accountId, product);
    if (view === null || (view && !mayReadFeed(view))) throw productNotFound(bearer);
    return view ?? NOT_WARM;
  }
}
