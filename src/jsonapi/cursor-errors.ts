import { ApiError } from './errors';

/**
 * The `page[cursor]` errors, worded once for the query parser and for both list paths (SQL:
 * paginate; memory: the catalogue's release lists), which must answer alike.
 */

/** `page[cursor]` with `page[number]`. */
export function cursorWithPageNumber(): ApiError {
  return ApiError.invalidParameter('page[cursor]', 'cannot be combined with page[number]');
}

/** A cursor that is not a UUID. */
export function cursorNotAnId(): ApiError {
  return ApiError.invalidParameter('page[cursor]', 'must be a resource id');
}

/** A cursor that is not a row of this very list (another tenant's, hidden, or filtered out). */
export function cursorNotInList(): ApiError {
  return ApiError.invalidParameter('page[cursor]', 'does not name a resource of this list');
}

/**
 * Keyset pagination compares one row tuple: every sort field, and the id that breaks ties (in the
 * last field's direction, newest first without one), must go one way. Typed by the one field it
 * reads, so this file stays below the query parser that uses it.
 */
export function assertCursorSort(sort: ReadonlyArray<{ descending: boolean }>): void {
  const tieDescending = sort.length ? sort[sort.length - 1].descending : true;
  if (sort.some((s) => s.descending !== tieDescending)) {
    throw ApiError.invalidParameter('page[cursor]', 'cursor pagination needs every sort field in one direction');
  }
}
