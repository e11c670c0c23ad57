import { Serializer } from 'jsonapi-serializer';
import type { Fieldsets, PageRequest, Query } from './query';

export interface Linkage {
  type: string;
  id: string;
}

export interface RelationshipObject {
  data?: Linkage | Linkage[] | null;
  links?: { related?: string; self?: string };
}

export interface ResourceObject {
  id: string;
  type: string;
  attributes: Record<string, unknown>;
  relationships?: Record<string, RelationshipObject>;
  links: { self: string; [name: string]: string | null };
}

/** One resource type's JSON:API shape: the only place that knows how an entity looks on the wire. */
export interface ResourceDefinition<T> {
  type: string;
  /** Attribute names in wire order (also the names allowed in fields[type]). */
  attributeNames: readonly string[];
  attributes(entity: T): Record<string, unknown>;
  relationships?(entity: T): Record<string, RelationshipObject>;
  self(entity: T): string;
  links?(entity: T): Record<string, string | null>;
  /**
   * What may still change on a stable entity (the catalogue's rows: ResourceKeeper), read
   * afresh every time: counters, issued links. The rest of such an entity's resource is built once.
   */
  volatile?(entity: T): { attributes?: Record<string, unknown>; links?: Record<string, string | null> };
}

/**
 * Where the resources of rows that never change (but for their definition's volatile parts) are
 * kept: the catalogue registers one for the rows it holds (catalogue/kept-resources.ts). Without
 * one, every resource is built when asked for.
 */
export interface ResourceKeeper {
  /** Records that `copy` is `original` with other volatile parts (its resource shares the rest). */
  copiedFrom(copy: object, original: object): void;
  /**
   * The resource kept for the row `entity` is (or is a copy of), per fieldset; built by `build` the
   * first time. Undefined: not a stable row (one that never changes but for its volatile parts).
   */
  resourceOf(entity: object, fieldsKey: string, build: (origin: object) => ResourceObject): ResourceObject | undefined;
}

let keeper: ResourceKeeper | undefined;

/** Registers where stable rows' resources are kept (the catalogue, at start). */
export function keepResourcesWith(resources: ResourceKeeper): void {
  keeper = resources;
}

/** See ResourceKeeper.copiedFrom. */
export function copiedFrom(copy: object, original: object): void {
  keeper?.copiedFrom(copy, original);
}

export function iso(date: Date | null | undefined): string | null {
  return date ? date.toISOString() : null;
}

const serializers = new Map<string, Serializer>();

function serializerFor(type: string, attributes: string[]): Serializer {
  const key = `${type}:${attributes.join(',')}`;
  let serializer = serializers.get(key);
  if (!serializer) {
    serializer = new Serializer(type, {
      attributes,
      // attributes are camelCase already; an identity keeps user metadata keys as they were sent
      keyForAttribute: (k: string) => k,
      pluralizeType: false,
      dataLinks: { self: (record: { __self: string }) => record.__self },
    });
    serializers.set(key, serializer);
  }
  return serializer;
}

/** Serializes one entity with its definition, honouring a sparse fieldset for its type. */
export function toResource<T>(def: ResourceDefinition<T>, entity: T, fields?: Fieldsets): ResourceObject {
  if (!def.volatile) return buildResource(def, entity, fields);
  const wanted = fields?.[def.type];
  const key = wanted ? [...wanted].sort().join(',') : '';
  const base = keeper?.resourceOf(entity as object, key, (origin) => buildResource(def, origin as T, fields));
  if (!base) return buildResource(def, entity, fields);
  // a fresh resource (answers are never shared objects) with the volatile parts read now
  const fresh = def.volatile(entity);
  const attributes = { ...base.attributes };
  if (fresh.attributes) for (const name in fresh.attributes) if (name in attributes) attributes[name] = fresh.attributes[name];
  const resource: ResourceObject = { id: base.id, type: base.type, attributes, links: { ...base.links, ...fresh.links } };
  if (base.relationships) {
    // one level deep: includes link their data into a resource's relationship objects
    const relationships: Record<string, RelationshipObject> = {};
    for (const name in base.relationships) relationships[name] = { ...base.relationships[name] };
    resource.relationships = relationships;
  }
  return resource;
}

function buildResource<T>(def: ResourceDefinition<T>, entity: T, fields?: Fieldsets): ResourceObject {
  const wanted = fields?.[def.type];
  const attributes = def.attributes(entity);
  const names = def.attributeNames.filter((n) => !wanted || wanted.has(n));
  const record: Record<string, unknown> = { id: (entity as { id: string }).id, __self: def.self(entity) };
  for (const name of names) record[name] = attributes[name] === undefined ? null : attributes[name];
  const { data } = serializerFor(def.type, names).serialize(record) as { data: ResourceObject };
  const resource: ResourceObject = { id: data.id, type: def.type, attributes: data.attributes ?? {}, links: { self: def.self(entity) } };
  if (def.relationships) {
    const rels = def.relationships(entity);
    resource.relationships = wanted ? Object.fromEntries(Object.entries(rels).filter(([n]) => wanted.has(n))) : rels;
  }
  if (def.links) Object.assign(resource.links, def.links(entity));
  return resource;
}

export interface SingleDocument {
  data: ResourceObject | null;
  included?: ResourceObject[];
  links?: Record<string, string | null>;
  meta?: Record<string, unknown>;
}

export interface ListDocument {
  data: ResourceObject[];
  included?: ResourceObject[];
  /** Pagination links, and `meta: {pages, count}` where Keygen's clients read the page counts. */
  links: Record<string, string | null | { pages: number; count: number }>;
  meta: Record<string, unknown>;
}

function dedupe(included: ResourceObject[], primary: ResourceObject[]): ResourceObject[] {
  const seen = new Set(primary.map((r) => `${r.type}:${r.id}`));
  const out: ResourceObject[] = [];
  for (const r of included) {
    const k = `${r.type}:${r.id}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(r);
    }
  }
  return out;
}

export function singleDocument<T>(
  def: ResourceDefinition<T>,
  entity: T,
  options: { fields?: Fieldsets; included?: ResourceObject[]; meta?: Record<string, unknown> } = {},
): SingleDocument {
  const data = toResource(def, entity, options.fields);
  const doc: SingleDocument = { data, links: { self: data.links.self } };
  if (options.included) doc.included = dedupe(options.included, [data]);
  if (options.meta) doc.meta = options.meta;
  return doc;
}

export interface PageResult<T> {
  items: T[];
  /** Total rows matching the filters (all pages); an estimate when countEstimated. */
  count: number;
  countEstimated?: boolean;
  /** Keyset pagination: id of the last item when there is a next page. */
  nextCursor?: string | null;
  /**
   * The memoized list the page was cut from, when it comes from memory: the same object for as
   * long as nothing the page shows changes, but for counters (see ReleasesService.countersEpoch).
   */
  source?: object;
}

/** A create's answer: 201 Created with a Location header naming the new resource (JSON:API). */
export function created<D extends SingleDocument>(res: { status(code: number): { location(url: string): unknown } }, doc: D): D {
  res.status(201).location(doc.data!.links.self);
  return doc;
}

/** Query parameters that carry a credential (access/credentials.ts): never written into a link. */
const CREDENTIAL_PARAMS = new Set(['key', 'token', 'auth']);

function withParams(path: string, query: Query, overrides: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (k in overrides || k === 'page' || k.startsWith('page[') || k === 'limit' || CREDENTIAL_PARAMS.has(k)) continue;
    if (typeof v === 'string') params.append(k, v);
    else if (Array.isArray(v)) for (const item of v) if (typeof item === 'string') params.append(k, item);
  }
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) params.append(k, v);
  const qs = params.toString().replace(/%5B/g, '[').replace(/%5D/g, ']').replace(/%2C/g, ',');
  return qs ? `${path}?${qs}` : path;
}

/** A list document with pagination links and meta.count/meta.pages. */
export function listDocument<T>(
  def: ResourceDefinition<T>,
  result: PageResult<T>,
  request: { path: string; query: Query; page: PageRequest; fields?: Fieldsets; included?: ResourceObject[] },
): ListDocument {
  const data = result.items.map((e) => toResource(def, e, request.fields));
  const { page, path, query } = request;
  const size = String(page.size);
  const pages = Math.max(1, Math.ceil(result.count / page.size));
  let links: Record<string, string | null>;
  if (page.kind === 'offset') {
    const at = (n: number) => withParams(path, query, { 'page[number]': String(n), 'page[size]': size });
    links = {
      self: at(page.number),
      first: at(1),
      prev: page.number > 1 ? at(Math.min(page.number - 1, pages)) : null,
      next: page.number < pages ? at(page.number + 1) : null,
      last: at(pages),
    };
  } else {
    const at = (cursor: string) => withParams(path, query, { 'page[cursor]': cursor, 'page[size]': size });
    links = {
      self: at(page.cursor ?? ''),
      first: at(''),
      prev: null,
      next: result.nextCursor ? at(result.nextCursor) : null,
      last: null,
    };
  }
  const meta: Record<string, unknown> = { count: result.count, pages };
  if (result.countEstimated) meta.countEstimated = true;
  const doc: ListDocument = { data, links: { ...links, meta: { pages, count: result.count } }, meta };
  if (request.included) doc.included = dedupe(request.included, data);
  return doc;
}
