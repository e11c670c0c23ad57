import { ApiError } from '../jsonapi/errors';
import { queryParam } from '../jsonapi/query';
import type { Query } from '../jsonapi/query';

/** `installId`: an anonymous install's own id (any string of 1..64 printable characters), optional. */
export function parseInstallId(query: Query): string | undefined {
  const raw = queryParam(query, 'installId');
  if (raw === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,64}$/.test(raw)) throw ApiError.invalidParameter('installId', 'must be 1 to 64 printable characters without spaces');
  return raw;
}
