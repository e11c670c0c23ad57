import { ApiError, ErrorCode } from '../jsonapi/errors';
import { documentError, isPlainObject, resourceArray } from '../jsonapi/document';
import { isUuid } from '../jsonapi/ids';

/**
 * Validators for the array documents of `POST|DELETE /releases/:id/constraints` (the JsonApiBodyPipe
 * handles single resources). Same error shapes: 400 DOCUMENT_INVALID, 409 TYPE_MISMATCH,
 * 400 PARAMETER_UNPERMITTED, 422 ENTITLEMENT_MISSING / ENTITLEMENT_NOT_FOUND, with pointers
 * such as /data/0/relationships/entitlement.
 */





/** `data: [{type: "constraints", relationships: {entitlement: {data: {type: "entitlements", id}}}}]` -> entitlement ids. */
export function parseAttachBody(body: unknown): string[] {
  return resourceArray(body, 'constraints').map((item, i) => {
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
  return resourceArray(body, 'constraints').map((item, i) => {
    if (typeof item.id !== 'string') throw documentError('id is required', `/data/${i}/id`);
    if (!isUuid(item.id)) throw new ApiError(422, 'CONSTRAINT_NOT_FOUND', `constraints ${item.id} was not found`, { pointer: `/data/${i}/id` });
    return item.id.toLowerCase();
  });
}
