import { Injectable } from '@nestjs/common';
import type { Bearer } from '../access/bearer';
import { NOT_WARM } from '../common/not-warm';
import type { NotWarm } from '../common/not-warm';
import { CountersService } from '../counters/counters.service';
import { walkLine } from '../upgrades/upgrade-finder';
import type { V3UpdateQuery } from '../v3/v3-params';
import { V3UpdateFastPath } from '../v3/v3-update.fast-path';
import { V3Service } from '../v3/v3.service';
import { WarmCatalogue } from './warm';

/**
 * `GET /v3/releases/update` from memory: the caller tied to the product (a user's licenses take a
 * query: never warm), its line walked in the product's load, the answer filled from the template
 * the load keeps per offered release. Counts as V3Service.update does.
 */
@Injectable()
export class V3UpdateFromMemory implements V3UpdateFastPath {
  constructor(
    private readonly warm: WarmCatalogue,
    private readonly v3: V3Service,
    private readonly counters: CountersService,
  ) {}

  update(bearer: Bearer, accountId: string, query: V3UpdateQuery): string | null | NotWarm {
    if (bearer.kind === 'user') return NOT_WARM;
    this.v3.assertTiedToProduct(bearer, query.productId);
    const viewer = this.warm.viewer(bearer, accountId);
    const product = viewer && this.warm.productReleases(accountId, query.productId);
    if (!viewer || product === undefined) return NOT_WARM;
    const policy = this.warm.accountProducts(accountId)?.get(query.productId)?.policy ?? null;
    const next = walkLine(viewer, product, { ...query, publishedOnly: true, policy }, query.current);
    this.counters.countCheck();
    return this.v3.answerUpdate(bearer, accountId, query, next, product?.memos);
  }
}
