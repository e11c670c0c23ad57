import { Injectable, PipeTransform } from '@nestjs/common';
import { ClassConstructor, plainToInstance } from 'class-transformer';
import { validate, ValidationError } from 'class-validator';
import { ApiError, attributeCode, ErrorCode } from './errors';
import { documentError, escapePointer, isPlainObject } from './document';
import { isUuid } from './ids';
import { isDeepStrictEqual } from 'node:util';
import type { ResourceObject } from './serializer';

export interface RelationshipSpec {
  type: string;
  /** To-many linkage (`data: [...]`) becomes `<singular>Ids` (entitlements -> entitlementIds); to-one becomes `<name>Id`. */
  many?: boolean;
  /** Resource objects carried whole (e.g. an account's first admin): their attributes become `<name>`. */
  embedded?: boolean;
  /** The id may also be the resource's code (a product's `code`): passed on as sent, the service resolves it. */
  byCode?: boolean;
}

export interface BodySpec<T> {
  type: string;
  dto: ClassConstructor<T>;
  /** Attributes the caller may send; anything else (unknown or read-only) is 400 PARAMETER_UNPERMITTED. */
  attributes: readonly string[];
  relationships?: Record<string, RelationshipSpec>;
  /** PATCH: missing attributes are left alone. */
  partial?: boolean;
  /**
   * Attributes the server alone keeps (counters), ignored on update whatever their value: a
   * client that sends back what it read (maybe on another instance, before the latest counts)
   * changes nothing by them.
   */
  serverOwned?: readonly string[];
}

/** `entitlements` -> `entitlement`: the field prefix and error-code name for one member of a to-many relationship. */
function singular(name: string): string {
  return name.endsWith('s') ? name.slice(0, -1) : name;
}

function linkage(name: string, spec: RelationshipSpec, value: unknown): string | null {
  const pointer = `/data/relationships/${name}`;
  if (!isPlainObject(value) || !('data' in value)) throw documentError('a relationship must be an object with data', pointer);
  const data = value.data;
  if (data === null) return null;
  if (!isPlainObject(data) || typeof data.id !== 'string' || typeof data.type !== 'string') {
    throw documentError('relationship data must be {type, id} or null', `${pointer}/data`);
  }
  if (data.type !== spec.type) throw new ApiError(409, ErrorCode.TYPE_MISMATCH, `must be of type ${spec.type}`, { pointer: `${pointer}/data/type` });
  if (!isUuid(data.id)) {
    // a code: non-empty, at most 255 characters, no NUL (what a code attribute may hold)
    if (spec.byCode && data.id.trim() !== '' && data.id.length <= 255 && !data.id.includes('\u0000')) return data.id;
    const code = attributeCode(spec.many ? singular(name) : name, 'NOT_FOUND');
    throw new ApiError(422, code, `${spec.type} ${data.id.slice(0, 64)} was not found`, { pointer });
  }
  return data.id.toLowerCase();
}

/** Relationship data reduced to `{type, id}` pairs (ids lowercased), for comparing what a client sent back. */
function linkageOf(data: unknown): unknown {
  const one = (d: unknown) => (isPlainObject(d) && typeof d.id === 'string' ? { type: d.type, id: d.id.toLowerCase() } : d);
  return Array.isArray(data) ? data.map(one) : one(data);
}

/** Deeper than this, a value is refused before class-transformer (which recurses) sees it. */
const MAX_NESTING = 32;

/**
 * What no attribute may hold: a NUL character anywhere (PostgreSQL text cannot store it) or
 * nesting deeper than MAX_NESTING. Iterative, so hostile depth cannot overflow the stack.
 */
function unstorable(value: unknown): string | null {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return 'must not contain NUL characters';
    } else if (v !== null && typeof v === 'object') {
      if (depth >= MAX_NESTING) return `must not nest deeper than ${MAX_NESTING} levels`;
      for (const [k, item] of Object.entries(v)) {
        if (k.includes('\u0000')) return 'must not contain NUL characters';
        stack.push([item, depth + 1]);
      }
    }
  }
  return null;
}

/** A class-validator tree as flat (pointer, code, detail) triples. */
function flatten(
  errors: ValidationError[],
  pointerOf: (path: string[]) => string,
  nameOf: (field: string) => string,
  path: string[] = [],
): Array<{ code: string; detail: string; source: { pointer: string } }> {
  const out: Array<{ code: string; detail: string; source: { pointer: string } }> = [];
  for (const error of errors) {
    const here = [...path, error.property];
    if (error.constraints) {
      const [name, message] = Object.entries(error.constraints)[0];
      const custom = (error.contexts?.[name] as { code?: string } | undefined)?.code;
      const field = [...here].reverse().find((p) => !/^\d+$/.test(p)) ?? here[0];
      const missing = error.value === undefined || error.value === null;
      const code = custom ?? attributeCode(nameOf(field), missing ? 'MISSING' : 'INVALID');
      out.push({ code, detail: message.replace(new RegExp(`^${error.property}\\s`), ''), source: { pointer: pointerOf(here) } });
    }
    if (error.children?.length) out.push(...flatten(error.children, pointerOf, nameOf, here));
  }
  return out;
}

/**
 * Unwraps a JSON:API request document into a validated DTO: `data.attributes` become fields,
 * relationship linkage becomes `<name>Id(s)`. Services never see `data` or `type`.
 */
@Injectable()
export class JsonApiBodyPipe<T extends object> implements PipeTransform<unknown, Promise<T>> {
  constructor(readonly spec: BodySpec<T>) {}

  /**
   * An update of the resource `id`: as transform, and a `data.id` that names another resource is
   * 409 (JSON:API: the body's id must match the endpoint's).
   */
  async transformFor(body: unknown, id: string, current?: ResourceObject): Promise<T> {
    const dto = await this.unwrap(body, current);
    const bodyId = (body as { data?: { id?: unknown } }).data?.id;
    if (bodyId !== undefined && (typeof bodyId !== 'string' || bodyId.toLowerCase() !== id.toLowerCase())) {
      throw new ApiError(409, ErrorCode.CONFLICT, `data.id does not match the ${this.spec.type} in the URL`, { pointer: '/data/id' });
    }
    return dto;
  }

  /**
   * Unwraps and validates. `current` (an update: the resource as the API shows it now) lets a client send back what it
   * read (read-modify-write): a read-only attribute or a relationship it may not change is
   * ignored when it is unchanged (400 PARAMETER_UNPERMITTED when changed), as are `links` and
   * `meta` members and relationship objects that carry only links.
   */
  transform(body: unknown): Promise<T> {
    return this.unwrap(body);
  }

  private async unwrap(body: unknown, current?: ResourceObject): Promise<T> {
    const { spec } = this;
    if (!isPlainObject(body) || !('data' in body)) throw documentError('the request body must be a JSON:API document with a data member', '');
    const data = body.data;
    if (!isPlainObject(data)) throw documentError('data must be a resource object');
    if (data.type !== spec.type) {
      if (typeof data.type !== 'string') throw documentError('data.type is required', '/data/type');
      throw new ApiError(409, ErrorCode.TYPE_MISMATCH, `must be ${spec.type}`, { pointer: '/data/type' });
    }
    for (const key of Object.keys(data)) {
      if (!['type', 'id', 'attributes', 'relationships', 'meta', 'links', 'lid'].includes(key)) throw ApiError.unpermitted(`/data/${key}`);
    }
    if ('id' in data && !spec.partial) throw ApiError.unpermitted('/data/id', 'client-generated ids are not supported');
    const attributes = data.attributes ?? {};
    if (!isPlainObject(attributes)) throw documentError('attributes must be an object', '/data/attributes');
    const plain: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(attributes)) {
      if (!spec.attributes.includes(key)) {
        if (current && spec.serverOwned?.includes(key)) continue;
        if (current && key in current.attributes && isDeepStrictEqual(value, current.attributes[key])) continue;
        // a client that flattened a links-only relationship into its model sends it back as an attribute
        if (current?.relationships?.[key] && isPlainObject(value) && Object.keys(value).every((k) => k === 'links' || k === 'meta')) continue;
        throw ApiError.unpermitted(`/data/attributes/${key}`, current && key in current.attributes ? `${key} cannot be changed` : `${key} is not a permitted attribute`);
      }
      const problem = unstorable(value);
      if (problem) throw ApiError.attribute(key, 'INVALID', problem);
      plain[key] = value;
    }
    const relationships = data.relationships ?? {};
    if (!isPlainObject(relationships)) throw documentError('relationships must be an object', '/data/relationships');
    const relationshipField: Record<string, string> = {};
    for (const [name, rel] of Object.entries(spec.relationships ?? {})) {
      relationshipField[rel.embedded ? name : rel.many ? `${singular(name)}Ids` : `${name}Id`] = name;
    }
    for (const [name, value] of Object.entries(relationships)) {
      const rel = spec.relationships?.[name];
      if (current && isPlainObject(value) && (!('data' in value) || (!rel && isDeepStrictEqual(linkageOf(value.data), linkageOf(current.relationships?.[name]?.data))))) continue;
      if (!rel) throw ApiError.unpermitted(`/data/relationships/${name}`, `${name} is not a permitted relationship`);
      if (rel.embedded) {
        if (!isPlainObject(value) || !Array.isArray(value.data)) throw documentError('must be {data: [...]}', `/data/relationships/${name}`);
        plain[name] = value.data.map((item, i) => {
          if (!isPlainObject(item) || item.type !== rel.type) throw documentError(`must be a ${rel.type} resource object`, `/data/relationships/${name}/data/${i}`);
          const attributes = isPlainObject(item.attributes) ? item.attributes : {};
          // as for the resource's own attributes: 422 <ATTRIBUTE>_INVALID at the attribute
          const at = `/data/relationships/${name}/data/${i}/attributes`;
          for (const [key, v] of Object.entries(attributes)) {
            if (key.includes('\u0000')) throw ApiError.unpermitted(at, 'attribute names must not contain NUL characters');
            const problem = unstorable(v);
            if (problem) throw new ApiError(422, attributeCode(key, 'INVALID'), problem, { pointer: `${at}/${escapePointer(key)}` });
          }
          return attributes;
        });
      } else if (rel.many) {
        if (!isPlainObject(value) || !Array.isArray(value.data)) throw documentError('must be {data: [...]}', `/data/relationships/${name}`);
        plain[`${singular(name)}Ids`] = value.data.map((item) => linkage(name, rel, { data: item }));
      } else {
        plain[`${name}Id`] = linkage(name, rel, value);
      }
    }
    const dto = plainToInstance(spec.dto, plain, { exposeDefaultValues: !spec.partial });
    const errors = await validate(dto as object, { skipMissingProperties: !!spec.partial, forbidUnknownValues: false });
    if (errors.length) {
      const pointerOf = (path: string[]) => {
        const [head, ...rest] = path;
        const rel = relationshipField[head];
        if (rel && spec.relationships?.[rel]?.embedded) {
          const [index, ...attr] = rest;
          return `/data/relationships/${rel}/data/${index ?? 0}${attr.length ? `/attributes/${attr.join('/')}` : ''}`;
        }
        if (rel) return `/data/relationships/${rel}`;
        return `/data/attributes/${path.join('/')}`;
      };
      const nameOf = (field: string) => (relationshipField[field] && !spec.relationships?.[relationshipField[field]]?.embedded ? relationshipField[field] : field);
      const flat = flatten(errors, pointerOf, nameOf);
      throw ApiError.many(422, flat);
    }
    return dto;
  }
}
