import type { ResourceKeeper, ResourceObject } from '../jsonapi/serializer';

/**
 * The JSON:API resources of the rows the catalogue holds (its releases and artifacts never change
 * in place but for counters, which their definitions read afresh): built once per row and
 * fieldset, kept with the row (weakly: they go when the row leaves the catalogue), and shared by
 * the copies made of a row (fresher counters, an issued link).
 */
export class KeptResources implements ResourceKeeper {
  private readonly stable = new WeakSet<object>();
  /** A copy -> the stable row it was made from. */
  private readonly copies = new WeakMap<object, object>();
  /** A stable row -> fieldset key -> its resource as first built. */
  private readonly built = new WeakMap<object, Map<string, ResourceObject>>();

  markStable(entity: object): void {
    this.stable.add(entity);
  }

  copiedFrom(copy: object, original: object): void {
    const origin = this.copies.get(original) ?? original;
    if (this.stable.has(origin)) this.copies.set(copy, origin);
  }

  resourceOf(entity: object, fieldsKey: string, build: (origin: object) => ResourceObject): ResourceObject | undefined {
    const origin = this.copies.get(entity) ?? entity;
    if (!this.stable.has(origin)) return undefined;
    let byFields = this.built.get(origin);
    if (!byFields) this.built.set(origin, (byFields = new Map()));
    let resource = byFields.get(fieldsKey);
    if (!resource) byFields.set(fieldsKey, (resource = build(origin)));
    return resource;
  }
}

/** One per process: rows are objects, and a row is only ever held by one app's catalogue. */
export const KEPT_RESOURCES = new KeptResources();
