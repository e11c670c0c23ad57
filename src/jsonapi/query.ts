import { cursorNotAnId, cursorWithPageNumber } from './cursor-errors';
import { ApiError } from './errors';
import { isUuid } from './ids';

export type Query = Record<string, unknown>;

/**
 * One query parameter as a string. Express 5 leaves `page[size]` as a flat key; an "extended"
 * parser would nest it, so both shapes are read. A repeated parameter is ambiguous: 400.
 */
export function queryParam(query: Query, name: string): string | undefined {
  let value: unknown = query[name];
  if (value === undefined) {
    const m = /^([^[]+)\[([^\]]+)\]$/.exec(name);
    if (m) {
      const outer = query[m[1]];
      if (outer && typeof outer === 'object' && !Array.isArray(outer)) value = (outer as Record<string, unknown>)[m[2]];
    }
  }
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw ApiError.invalidParameter(name, 'must be given once, as a single value');
  return value;
}

export function intParam(query: Query, name: string, min: number, max: number): number | undefined {
  const raw = queryParam(query, name);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw ApiError.invalidParameter(name, `must be an integer between ${min} and ${max}`);
  }
  return Number(raw);
}

export function booleanParam(query: Query, name: string): boolean | undefined {
  const raw = queryParam(query, name);
  if (raw === undefined) return undefined;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw ApiError.invalidParameter(name, 'must be true or false');
}

export function enumParam<T extends string>(query: Query, name: string, allowed: readonly T[]): T | undefined {
  const raw = queryParam(query, name);
  if (raw === undefined) return undefined;
  if (!allowed.includes(raw as T)) throw ApiError.invalidParameter(name, `must be one of ${allowed.join(', ')}`);
  return raw as T;
}

export type PageRequest =
  | { kind: 'offset'; number: number; size: number }
  | { kind: 'cursor'; cursor: string | null; size: number };

export const DEFAULT_PAGE_SIZE = 10;
export const MAX_PAGE_SIZE = 100;

export function parsePage(query: Query): PageRequest {
  const size = intParam(query, 'page[size]', 1, MAX_PAGE_SIZE);
  const limit = intParam(query, 'limit', 1, MAX_PAGE_SIZE);
  const number = intParam(query, 'page[number]', 1, Number.MAX_SAFE_INTEGER);
  const cursor = queryParam(query, 'page[cursor]');
  if (cursor !== undefined) {
    if (number !== undefined) throw cursorWithPageNumber();
    if (cursor !== '' && !isUuid(cursor)) throw cursorNotAnId();
    return { kind: 'cursor', cursor: cursor === '' ? null : cursor.toLowerCase(), size: size ?? limit ?? DEFAULT_PAGE_SIZE };
  }
  return { kind: 'offset', number: number ?? 1, size: size ?? limit ?? DEFAULT_PAGE_SIZE };
}

export interface SortField {
  field: string;
  descending: boolean;
}

/**
 * JSON:API `sort` (`-created`, `version,name`) or Keygen's `order=asc|desc` (by created).
 * Unknown fields are 400.
 */
export function parseSort(query: Query, allowed: readonly string[], fallback = '-created'): SortField[] {
  const sort = queryParam(query, 'sort');
  const order = queryParam(query, 'order');
  if (order !== undefined && !['asc', 'desc'].includes(order.toLowerCase())) throw ApiError.invalidParameter('order', 'must be asc or desc');
  if (sort === undefined && order !== undefined) return [{ field: 'created', descending: order.toLowerCase() === 'desc' }];
  const raw = sort ?? fallback;
  return raw.split(',').map((part) => {
    const descending = part.startsWith('-');
    const field = descending ? part.slice(1) : part;
    if (!allowed.includes(field)) throw ApiError.invalidParameter('sort', `cannot sort by "${field}"; allowed: ${allowed.join(', ')}`);
    return { field, descending };
  });
}

/** `include=product,constraints.entitlement`: each path must be one the resource offers. */
export function parseInclude(query: Query, allowed: readonly string[]): Set<string> {
  const raw = queryParam(query, 'include');
  if (raw === undefined || raw === '') return new Set();
  const paths = raw.split(',').map((p) => p.trim());
  for (const path of paths) {
    if (!allowed.includes(path)) throw ApiError.invalidParameter('include', `cannot include "${path}"; allowed: ${allowed.join(', ') || 'none'}`);
  }
  // including a.b implies a
  const out = new Set<string>();
  for (const path of paths) {
    const parts = path.split('.');
    for (let i = 1; i <= parts.length; i++) out.add(parts.slice(0, i).join('.'));
  }
  return out;
}

export type Fieldsets = Record<string, Set<string>>;

/** `fields[releases]=version,channel`: sparse fieldsets per type; unknown types or fields are 400. */
export function parseFields(query: Query, known: Record<string, readonly string[]>): Fieldsets {
  const out: Fieldsets = {};
  const keys = new Set<string>();
  for (const key of Object.keys(query)) {
    const flat = /^fields\[([^\]]+)\]$/.exec(key);
    if (flat) keys.add(flat[1]);
    if (key === 'fields' && query.fields && typeof query.fields === 'object') for (const t of Object.keys(query.fields)) keys.add(t);
  }
  for (const type of keys) {
    const name = `fields[${type}]`;
    const allowed = known[type];
    if (!allowed) throw ApiError.invalidParameter(name, `unknown resource type "${type}"`);
    const raw = queryParam(query, name) ?? '';
    const fields = raw === '' ? [] : raw.split(',').map((f) => f.trim());
    for (const f of fields) if (!allowed.includes(f)) throw ApiError.invalidParameter(name, `unknown field "${f}" for ${type}`);
    out[type] = new Set(fields);
  }
  return out;
}

export interface ListQuery {
  page: PageRequest;
  sort: SortField[];
  include: Set<string>;
  fields: Fieldsets;
}

export interface ListQuerySpec {
  sort: readonly string[];
  include?: readonly string[];
  /** Field names per resource type that may appear in fields[...]. */
  fields: Record<string, readonly string[]>;
}

export function parseListQuery(query: Query, spec: ListQuerySpec): ListQuery {
  return {
    page: parsePage(query),
    sort: parseSort(query, spec.sort),
    include: parseInclude(query, spec.include ?? []),
    fields: parseFields(query, spec.fields),
  };
}
