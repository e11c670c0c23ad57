import type { Bearer } from '../access/bearer';
import type { NotWarm } from '../common/not-warm';
import type { ListQuery, Query } from '../jsonapi/query';
import type { ReleaseFilters } from './release-list-filters';

/** The request of a list page, as the fast path reads it. */
export interface ReleaseListRequest {
  query: ListQuery;
  filters: ReleaseFilters;
  /** The raw query string's parameters and the path, for the page's links. */
  raw: Query;
  path: string;
  /** The URL as requested: a page is kept serialized per URL. */
  url: string;
}

/**
 * A customer's (license, anonymous) page of `GET /releases` answered from memory: the serialized
 * document the ordinary path would send, or NOT_WARM. Implemented by the fast-path layer.
 */
export abstract class ReleaseListFastPath {
  abstract page(bearer: Bearer, accountId: string, request: ReleaseListRequest): string | NotWarm;
}
