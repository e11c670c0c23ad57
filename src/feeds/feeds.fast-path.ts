import type { Bearer } from '../access/bearer';
import type { NotWarm } from '../common/not-warm';
import type { FeedQuery, PlatformGroup } from './feeds.service';

/**
 * The electron and Tauri feeds answered from memory: what FeedsService answers, or NOT_WARM.
 * Implemented by the fast-path layer.
 */
export abstract class FeedsFastPath {
  abstract electron(bearer: Bearer, accountId: string, product: string, group: PlatformGroup, query: FeedQuery): string | null | NotWarm;
  abstract tauri(bearer: Bearer, accountId: string, product: string, group: PlatformGroup, query: FeedQuery): string | null | NotWarm;
}
