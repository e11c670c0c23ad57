import type { Bearer, LicenseFacts } from './bearer';
import type { DistributionStrategy } from './strategies';

/** The caller, with the facts the memory rule reads: its licenses and the account's products. */
export interface ViewerFacts {
  bearer: Bearer;
  /** license: its own license; user: the licenses it owns; others: none. */
  licenses: readonly LicenseFacts[];
  strategyOf(productId: string): DistributionStrategy | undefined;
}
