/**
 * A product's update policy as the catalogue keeps it (ProductFacts.policy) and update checks read
 * it (upgrades/update-policy.ts decides with it). Null for a product that sets none, so that the
 * hot path tests one reference.
 */
export interface ProductPolicyFacts {
  /** Update answers to callers below this version are critical (belowMinimum). */
  readonly minimumVersion: string | null;
  /** A caller on a yanked release, with nothing above it, is offered the newest release below it. */
  readonly rollbackOnYank: boolean;
  /** Both, as one string: part of the keys of answers memoized with them. */
  readonly key: string;
}

export function productPolicyFacts(minimumVersion: string | null, rollbackOnYank: boolean): ProductPolicyFacts | null {
  if (minimumVersion === null && !rollbackOnYank) return null;
  return { minimumVersion, rollbackOnYank, key: `min=${minimumVersion ?? ''};rb=${rollbackOnYank ? 1 : 0}` };
}
