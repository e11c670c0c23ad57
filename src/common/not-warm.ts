/**
 * What a fast path answers when memory does not hold everything it reads: the controller then
 * awaits the ordinary async service (docs/architecture.md, "The fast path").
 */
export const NOT_WARM: unique symbol = Symbol('not warm');
export type NotWarm = typeof NOT_WARM;
