import { ApiError, ErrorCode } from '../jsonapi/errors';
import { isUuid } from '../jsonapi/ids';

/**
 * Validators for the array documents of `POST|DELETE /releases/:id/constraints` (the JsonApiBodyPipe
 * handles single resources). Same error shapes: 400 DOCUMENT_INVALID, 409 TYPE_MISMATCH,
 * 400 PARAMETER_UNPERMITTED, 422 ENTITLEMENT_MISSING / ENTITLEMENT_NOT_FOUND, with pointers
 * such as /data/0/relationships/entitlement.
 */

export const MAX_CONSTRAINTS_PER_REQUEST = 100;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function documentError(detail: string, pointer: string): ApiError {
  return new ApiError(400, ErrorCode.DOCUMENT_INVALID, detail, { pointer });
}

function items(body: unknown): Record<string, unknown>[] {
  if (!isPlainObject(body) || !('data' in body)) throw documentError('the request body must be a JSON:API document with a data member', '');
  const data = body.data;
  if (!Array.isArray(data)) throw documentError('data must be an array of constraints', '/data');
  if (data.length === 0) throw documentError('data must hold at least one constraint', '/data');
  if (data.length > MAX_CONSTRAINTS_PER_REQUEST) throw documentError(`data may hold at most ${MAX_CONSTRAINTS_PER_REQUEST} constraints`, '/data');
  return data.map((item, i) => {
    if (!isPlainObject(item)) throw documentError('must be a resource object', `/data/${i}`);
    if (typeof item.type !== 'string') throw documentError('type is required', `/data/${i}/type`);
    if (item.type !== 'constraints') throw new ApiError(409, ErrorCode.TYPE_MISMATCH, 'must be constraints', { pointer: `/data/${i}/type` });
    return item;
  });
}

/** `data: [{type: "constraints", relationships: {entitlement: {data: {type: "entitlements", id}}}}]` -> entitlement ids. */
export function parseAttachBody(body: unknown): string[] {
  return items(body).map((item, i) => {
    for (const key of Object.keys(item)) {
      if (!['type', 'attributes', 'relationships', 'meta', 'lid'].includes(key)) throw ApiError.unpermitted(`/data/${i}/${key}`);
    }
    if (item.attributes !== undefined) {
      if (!isPlainObject(item.attributes)) throw documentError('attributes must be an object', `/data/${i}/attributes`);
      const [first] = Object.keys(item.attributes);
      if (first !== undefined) throw ApiError.unpermitted(`/data/${i}/attributes/${first}`, `${first} is not a permitted attribute`);
    }
    const relationships = item.relationships ?? {};
    if (!isPlainObject(relationships)) throw documentError('relationships must be an object', `/data/${i}/relationships`);
    for (const name of Object.keys(relationships)) {
      if (name !== 'entitlement') throw ApiError.unpermitted(`/data/${i}/relationships/${name}`, `${name} is not a permitted relationship`);
    }
    const pointer = `/data/${i}/relationships/entitlement`;
    const rel = relationships.entitlement;
    if (rel === undefined) throw new ApiError(422, 'ENTITLEMENT_MISSING', 'is required', { pointer });
    if (!isPlainObject(rel) || !('data' in rel)) throw documentError('a relationship must be an object with data', pointer);
    const data = rel.data;
    if (data === null) throw new ApiError(422, 'ENTITLEMENT_MISSING', 'is required', { pointer });
    if (!isPlainObject(data) || typeof data.type !== 'string' || typeof data.id !== 'string') {
      throw documentError('relationship data must be {type, id}', `${pointer}/data`);
    }
    if (data.type !== 'entitlements') throw new ApiError(409, ErrorCode.TYPE_MISMATCH, 'must be of type entitlements', { pointer: `${pointer}/data/type` });
    if (!isUuid(data.id)) throw new ApiError(422, 'ENTITLEMENT_NOT_FOUND', `entitlements ${data.id} was not found`, { pointer });
    return data.id.toLowerCase();
  });
}

/** `data: [{type: "constraints", id}]` -> constraint ids. */
export function parseDetachBody(body: unknown): string[] {
  return items(body).map((item, i) => {
    if (typeof item.id !== 'string') throw documentError('id is required', `/data/${i}/id`);
    if (!isUuid(item.id)) throw new ApiError(422, 'CONSTRAINT_NOT_FOUND', `constraints ${item.id} was not found`, { pointer: `/data/${i}/id` });
    return item.id.toLowerCase();
  });
}
