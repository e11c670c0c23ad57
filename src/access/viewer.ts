import type { Bearer } from './bearer';

/** Who may reach a product's releases: licensees (LICENSED), everyone (OPEN), or its own tokens only (CLOSED). */
export const DISTRIBUTION_STRATEGIES = ['LICENSED', 'OPEN', 'CLOSED'] as const;
export type DistributionStrategy = (typeof DISTRIBUTION_STRATEGIES)[number];

/** What an expired license still reaches: releases up to its expiry, nothing, or everything. */
export const EXPIRATION_STRATEGIES = ['RESTRICT_ACCESS', 'REVOKE_ACCESS', 'ALLOW_ACCESS'] as const;
export type ExpirationStrategy = (typeof EXPIRATION_STRATEGIES)[number];

/** What the visibility rule needs to know of a license (the catalogue keeps these). */
export interface LicenseFacts {
  id: string;
  productId: string;
  expiry: Date | null;
  expirationStrategy: ExpirationStrategy;
  suspended: boolean;
  entitlementIds: ReadonlySet<string>;
  /** Its visibility class (release.policy's visibilityClass), kept with the facts until its expiry window changes. */
  visibilityClass?: LicenseClass;
}

/** A license's visibility class: `key`, and `ofLicense` (the class of a caller holding that license alone), valid `until`. */
export interface LicenseClass {
  readonly key: string;
  readonly ofLicense: string;
  readonly until: number;
}

/** The caller, with the facts the memory rule reads: its licenses and the account's products. */
export interface ViewerFacts {
  bearer: Bearer;
  /** license: its own license; user: the licenses it owns; others: none. */
  licenses: readonly LicenseFacts[];
  strategyOf(productId: string): DistributionStrategy | undefined;
}
