/** Who may reach a product's releases: licensees (LICENSED), everyone (OPEN), or its own tokens only (CLOSED). */
export const DISTRIBUTION_STRATEGIES = ['LICENSED', 'OPEN', 'CLOSED'] as const;
export type DistributionStrategy = (typeof DISTRIBUTION_STRATEGIES)[number];

/** What an expired license still reaches: releases up to its expiry, nothing, or everything. */
export const EXPIRATION_STRATEGIES = ['RESTRICT_ACCESS', 'REVOKE_ACCESS', 'ALLOW_ACCESS'] as const;
export type ExpirationStrategy = (typeof EXPIRATION_STRATEGIES)[number];
