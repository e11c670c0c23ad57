import { Injectable } from '@nestjs/common';
import type { Bearer } from '../access/bearer';
import type { ProductReleases } from '../catalogue/product-releases';
import { NOT_WARM } from '../common/not-warm';
import type { NotWarm } from '../common/not-warm';
import { CountersService } from '../counters/counters.service';
import { ApiError } from '../jsonapi/errors';
import { isUuid } from '../jsonapi/ids';
import { listDocument } from '../jsonapi/serializer';
import { visibilityClass } from '../releases/release.policy';
import { ReleaseListFastPath } from '../releases/release-list.fast-path';
import type { ReleaseListRequest } from '../releases/release-list.fast-path';
import { MEMORY_SORTABLE, pageOf, visibleSorted } from './release-list.memory';
import { ReleaseSerializer } from '../releases/release.serializer';
import { WarmCatalogue } from './warm';

/** Products at most that a list from memory merges (a caller licensed for more gets SQL). */
const MAX_PRODUCTS = 20;

/**
 * A license's or an anonymous caller's `GET /releases` page from memory: the visible releases of
 * the products it may see, sorted once per visibility class, filters and sort (kept with the first
 * product's load), each page kept serialized per URL while no counter moves (MEMO_KINDS.listPage).
 * Includes, `sort=name` (the database's collation) and product codes are the service's.
 */
@Injectable()
export class ReleaseListFromMemory implements ReleaseListFastPath {
  constructor(
    private readonly warm: WarmCatalogue,
    private readonly counters: CountersService,
  ) {}

  page(bearer: Bearer, accountId: string, request: ReleaseListRequest): string | NotWarm {
    const { query, filters } = request;
    if (bearer.kind !== 'license' && bearer.kind !== 'anonymous') return NOT_WARM;
    if (query.include.size || !query.sort.every((s) => MEMORY_SORTABLE.has(s.field))) return NOT_WARM;
    if (filters.product !== undefined && !isUuid(filters.product)) return NOT_WARM;
    // a package key is resolved by the service
    if (filters.package !== undefined && !isUuid(filters.package)) return NOT_WARM;
    const viewer = this.warm.viewer(bearer, accountId);
    if (!viewer) return NOT_WARM;
    let productIds: string[];
    if (filters.product !== undefined) {
      productIds = [filters.product.toLowerCase()];
    } else {
      const licensed = new Set(viewer.licenses.map((l) => l.productId));
      const products = this.warm.accountProducts(accountId);
      if (!products) return NOT_WARM;
      productIds = [...products.values()].filter((p) => p.distributionStrategy === 'OPEN' || licensed.has(p.id)).map((p) => p.id);
    }
    if (productIds.length > MAX_PRODUCTS) return NOT_WARM;
    const loads: ProductReleases[] = [];
    for (const id of productIds) {
      const releases = this.warm.productReleases(accountId, id);
      if (releases === undefined) return NOT_WARM;
      if (releases) loads.push(releases);
    }
    if (!loads.length) {
      if (query.page.kind === 'cursor' && query.page.cursor) throw ApiError.invalidParameter('page[cursor]', 'does not name a resource of this list');
      return NOT_WARM;
    }
    // what decides the list: the loads and strategies, the caller's class, filters and sort
    const key = [
      loads.map((c) => `${c.generation}:${viewer.strategyOf(c.productId)}`).join(','),
      visibilityClass(viewer),
      JSON.stringify(filters),
      query.sort.map((s) => `${s.descending ? '-' : ''}${s.field}`).join(','),
    ].join('|');
    const memos = loads[0].memos;
    const sorted = memos.table('releaseList').get(key, () =>
      visibleSorted(loads.length === 1 ? loads[0].newestFirst : loads.flatMap((c) => c.newestFirst), viewer, filters, query.sort),
    );
    return memos.table('listPage', this.counters.version).get(`${key}|${request.url}`, () => {
      const page = pageOf(sorted, query.page, query.sort);
      const items = page.items.map((e) => this.counters.withPending(e.release));
      const doc = listDocument(ReleaseSerializer, { items, count: sorted.length, nextCursor: page.nextCursor }, { path: request.path, query: request.raw, page: query.page, fields: query.fields });
      return JSON.stringify(doc);
    });
  }
}
