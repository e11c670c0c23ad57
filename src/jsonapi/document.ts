import { ApiError, ErrorCode } from './errors';

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** 400 DOCUMENT_INVALID: the body is not the JSON:API document the endpoint takes. */
export function documentError(detail: string, pointer = '/data'): ApiError {
  return new ApiError(400, ErrorCode.DOCUMENT_INVALID, detail, { pointer });
}

export const MAX_RESOURCES_PER_REQUEST = 100;

/**
 * The resource objects of an array document (`data: [{type, ...}]`, as in attach/detach routes):
 * 1..MAX_RESOURCES_PER_REQUEST objects, each of `type` (else 409 TYPE_MISMATCH).
 */
export function resourceArray(body: unknown, type: string): Record<string, unknown>[] {
  if (!isPlainObject(body) || !('data' in body)) throw documentError('the request body must be a JSON:API document with a data member', '');
  const data = body.data;
  if (!Array.isArray(data)) throw documentError(`data must be an array of ${type}`);
  if (data.length === 0) throw documentError(`data must hold at least one of ${type}`);
  if (data.length > MAX_RESOURCES_PER_REQUEST) throw documentError(`data may hold at most ${MAX_RESOURCES_PER_REQUEST} ${type}`);
  return data.map((item, i) => {
    if (!isPlainObject(item)) throw documentError('must be a resource object', `/data/${i}`);
    if (typeof item.type !== 'string') throw documentError('type is required', `/data/${i}/type`);
    if (item.type !== type) throw new ApiError(409, ErrorCode.TYPE_MISMATCH, `must be ${type}`, { pointer: `/data/${i}/type` });
    return item;
  });
}

/** A member name as one JSON pointer token (RFC 6901: `~` as `~0`, `/` as `~1`). */
export function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
