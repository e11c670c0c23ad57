import { createdMs } from '../catalogue/kept-rows';
import type { CatalogueRelease } from '../catalogue/product-releases';
import { assertCursorSort, cursorNotInList } from '../jsonapi/cursor-errors';
import type { PageRequest, SortField } from '../jsonapi/query';
import type { ViewerFacts } from '../access/viewer';
import { ReleaseVisibilityPolicy } from '../releases/release.policy';
import { listFilterPredicate } from '../releases/release-list-filters';
import { compareVersionOrder } from '../releases/semver';
import type { ReleaseFilters } from '../releases/release-list-filters';

/** Sort fields the memory path orders exactly as SQL does (names would need the database's collation). */
export const MEMORY_SORTABLE = new Set(['created', 'version']);

/** The caller-visible releases matching the filters, ordered as `sort` (plus id) orders them in SQL. */
export function visibleSorted(entries: Iterable<CatalogueRelease>, viewer: ViewerFacts, filters: ReleaseFilters, sort: SortField[]): CatalogueRelease[] {
  const matches = listFilterPredicate(filters);
  const now = Date.now();
  const out: CatalogueRelease[] = [];
  for (const e of entries) {
    if (!matches(e)) continue;
    if (!ReleaseVisibilityPolicy.sees(viewer, e, now)) continue;
    out.push(e);
  }
  const tieDescending = sort.length ? sort[sort.length - 1].descending : true;
  out.sort((x, y) => {
    for (const s of sort) {
      const c = s.field === 'created' ? createdMs(x.release) - createdMs(y.release) : compareVersionOrder(x.release, y.release);
      if (c) return s.descending ? -c : c;
    }
    const c = x.release.id === y.release.id ? 0 : x.release.id < y.release.id ? -1 : 1;
    return tieDescending ? -c : c;
  });
  return out;
}


/** One page of an ordered list, as paginate() pages SQL (offset, or keyset after a cursor row). */
export function pageOf(sorted: CatalogueRelease[], page: PageRequest, sort: SortField[]): { items: CatalogueRelease[]; nextCursor?: string | null } {
  if (page.kind === 'offset') return { items: sorted.slice((page.number - 1) * page.size, page.number * page.size) };
  let start = 0;
  if (page.cursor) {
    assertCursorSort(sort);
    const at = sorted.findIndex((e) => e.release.id === page.cursor);
    if (at < 0) throw cursorNotInList();
    start = at + 1;
  }
  const items = sorted.slice(start, start + page.size);
  const hasMore = sorted.length > start + page.size;
  return { items, nextCursor: hasMore ? items[items.length - 1].release.id : null };
}
