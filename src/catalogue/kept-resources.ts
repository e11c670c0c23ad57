import type { ResourceKeeper, ResourceObject } from '../jsonapi/serializer';
import { isKeptRow } from './kept-rows';

/**
 * The JSON:API resources of the rows the catalogue holds (its releases and artifacts, and the
 * offers made of them, never change in place but for counters, which their definitions read
 * afresh): built once per row and fieldset, kept with the row (weakly: they go when the row leaves
 * the catalogue), and shared by the copies made of a row (fresher counters, an issued link). A
 * row is the catalogue's when it is a kept row (kept-rows.ts): no set of them to hold.
 */
export class KeptResources implements ResourceKeeper {
  /** A copy -> the stable row it was made from. */
  private readonly copies = new WeakMap<object, object>();
  /** A stable row -> fieldset key -> its resource as first built. */
  private readonly built = new WeakMap<object, Map<string, ResourceObject>>();

  copiedFrom(copy: object, original: object): void {
    const origin = this.copies.get(original) ?? original;
    if (isKeptRow(origin)) this.copies.set(copy, origin);
  }

  resourceOf(entity: object, fieldsKey: string, build: (origin: object) => ResourceObject): ResourceObject | undefined {
    const origin = this.copies.get(entity) ?? entity;
    if (!isKeptRow(origin)) return undefined;
    let byFields = this.built.get(origin);
    if (!byFields) this.built.set(origin, (byFields = new Map()));
    let resource = byFields.get(fieldsKey);
    if (!resource) byFields.set(fieldsKey, (resource = build(origin)));
    return resource;
  }
}

/** One per process: rows are objects, and a row is only ever held by one app's catalogue. */
export const KEPT_RESOURCES = new KeptResources();

/**
 * A value computed from one kept row alone (an offer's changelog entry of a release), kept weakly
 * with the row: a new generation of a product makes its answers again, but its rows are the same
 * objects, so what was made of them is not made again. Rows that are not the catalogue's (the SQL
 * path's entities) get a fresh value each time.
 */
export class RowMemo<R extends object, T> {
  private readonly values = new WeakMap<R, T>();

  constructor(private readonly build: (row: R) => T) {}

  of(row: R): T {
    if (!isKeptRow(row)) return this.build(row);
    let value = this.values.get(row);
    if (value === undefined) this.values.set(row, (value = this.build(row)));
    return value;
  }
}
