import type { ExpirationStrategy } from './strategies';

/** What the visibility rule needs to know of a license (the catalogue keeps these). */
export interface LicenseFacts {
  id: string;
  productId: string;
  expiry: Date | null;
  expirationStrategy: ExpirationStrategy;
  suspended: boolean;
  entitlementIds: ReadonlySet<string>;
  /** A semver range that limits what update checks offer the license (null: none). */
  versionPin: string | null;
  /** Its visibility class (release.policy's visibilityClass), kept with the facts until its expiry window changes. */
  visibilityClass?: LicenseClass;
}

/** A license's visibility class: `key`, and `ofLicense` (the class of a caller holding that license alone), valid `until`. */
export interface LicenseClass {
  readonly key: string;
  readonly ofLicense: string;
  readonly until: number;
}

/**
 * The license a license caller holds, as authentication found it (at run time the License row the
 * catalogue keeps; typed by what callers read, so that this layer needs no entity).
 */
export interface LicenseRef {
  readonly id: string;
  readonly accountId: string;
  readonly productId: string;
  readonly key: string;
}

/** Who is calling, bound to the account in the path. Every policy decision starts from this. */
export type Bearer = (
  | { kind: 'root' }
  | { kind: 'admin'; accountId: string; userId: string; tokenId: string }
  | { kind: 'user'; accountId: string; userId: string; tokenId: string }
  | { kind: 'product'; accountId: string; productId: string; tokenId: string }
  | { kind: 'license'; accountId: string; license: LicenseRef; /** from the catalogue: what visibility reads */ facts?: LicenseFacts }
  | { kind: 'anonymous'; accountId: string | null }
) & {
  /**
   * The request is a HEAD: it is answered as its GET would be (same status and headers), but it
   * uses nothing, so nothing is counted: no download, no upgrade, no update check in analytics.
   * Also a request to a file URL that continues a download (artifacts/http-range.ts
   * continuesDownload): answered in full, not counted as a new download.
   */
  readonly probe?: true;
};

/** The caller of a HEAD request (or of a download's continuation): the same caller, marked as a probe (see Bearer.probe). */
export function asProbe(bearer: Bearer): Bearer {
  return { ...bearer, probe: true };
}

/** Admin and product-token calls are "internal": they see everything and are not counted as downloads. */
export function isPrivileged(bearer: Bearer): boolean {
  return bearer.kind === 'admin' || bearer.kind === 'product';
}
