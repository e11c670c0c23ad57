import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import type { Bearer, LicenseClass, LicenseFacts } from '../access/bearer';
import type { ViewerFacts } from '../access/viewer';
import { inLicenseWindow, licenseRowWindowSql, licenseWindow, licenseWindowKeptUntil, licenseWindowSql } from '../licenses/license-window';
import type { Release } from './release.entity';

/** What the memory rule needs to know of a release. */
export interface ReleaseFacts {
  release: Pick<Release, 'accountId' | 'productId' | 'status' | 'created'>;
  /** Entitlement ids of its constraints. */
  entitlementIds: readonly string[];
}

/**
 * Who sees which releases, as SQL so that lists and single records use the same rule:
 * - admin: everything in the account; product token: everything of its product;
 * - license: PUBLISHED releases of its product (LICENSED or OPEN) whose constraints are all among
 *   the license's entitlements, inside its expiry window; plus what anonymous callers see;
 * - user: the union over the licenses it owns (suspended ones excluded);
 * - anonymous: PUBLISHED, unconstrained releases of OPEN products.
 * CLOSED products are seen by admins and their product token only.
 */
export class ReleaseVisibilityPolicy {
  /**
   * Narrows a query over `releases` (aliased `alias`) to what the bearer may see. With
   * `artifactColumn` (the SQL of an artifact id per row, e.g. the artifact_offers view's
   * `artifact_id` or a joined artifact's id), the constraints of that artifact count as well: a
   * license must hold every constraint of the release and of the artifact.
   */
  static scope<T extends ObjectLiteral>(qb: SelectQueryBuilder<T>, bearer: Bearer, alias = 'release', artifactColumn?: string): SelectQueryBuilder<T> {
    const r = alias;
    const required = requiredSql(r, artifactColumn);
    switch (bearer.kind) {
      case 'admin':
        return qb.andWhere(`${r}.account_id = :rpAccount`, { rpAccount: bearer.accountId });
      case 'product':
        return qb.andWhere(`${r}.account_id = :rpAccount AND ${r}.product_id = :rpProduct`, {
          rpAccount: bearer.accountId,
          rpProduct: bearer.productId,
        });
      case 'license':
        if (bearer.facts) {
          // the license's facts are known: per row, SQL only checks the release's own columns and constraints
          const reach = licenseFactsSql(r, bearer.facts, Date.now(), required);
          return qb.andWhere(`${r}.account_id = :rpAccount AND ${r}.status = 'PUBLISHED' AND (${reach.sql} OR ${openSql(r, required)})`, {
            rpAccount: bearer.accountId,
            ...reach.params,
          });
        }
        return qb.andWhere(
          `${r}.account_id = :rpAccount AND ${r}.status = 'PUBLISHED' AND (${licensedSql(r, 'l.id = :rpLicense', required)} OR ${openSql(r, required)})`,
          { rpAccount: bearer.accountId, rpLicense: bearer.license.id },
        );
      case 'user':
        return qb.andWhere(
          `${r}.account_id = :rpAccount AND ${r}.status = 'PUBLISHED' AND (${licensedSql(r, 'l.user_id = :rpUser AND NOT l.suspended', required)} OR ${openSql(r, required)})`,
          { rpAccount: bearer.accountId, rpUser: bearer.userId },
        );
      case 'anonymous':
        return bearer.accountId
          ? qb.andWhere(`${r}.account_id = :rpAccount AND ${r}.status = 'PUBLISHED' AND ${openSql(r, required)}`, { rpAccount: bearer.accountId })
          : qb.andWhere('false');
      default:
        return qb.andWhere('false');
    }
  }

  /**
   * The same rule as `scope`, in memory, for the catalogue's hot path (the two are tested against
   * each other on generated data: test/e2e/visibility-equivalence.e2e-spec.ts).
   */
  static sees(viewer: ViewerFacts, entry: ReleaseFacts, now = Date.now()): boolean {
    return ReleaseVisibilityPolicy.denial(viewer, entry, now) === null;
  }

  /**
   * Why the caller does not see a release (null: it does): what `sees` decides, with the rule
   * that decided it (the "why no update?" route reads it). For a user, the denial of the first of
   * its licenses that comes closest (an expiry over a constraint). Returns constants: no allocation.
   */
  static denial(viewer: ViewerFacts, entry: ReleaseFacts, now = Date.now()): VisibilityDenial | null {
    const { bearer } = viewer;
    const r = entry.release;
    switch (bearer.kind) {
      case 'admin':
        return r.accountId === bearer.accountId ? null : 'product';
      case 'product':
        return r.accountId === bearer.accountId && r.productId === bearer.productId ? null : 'product';
      case 'license':
      case 'user': {
        if (r.accountId !== bearer.accountId) return 'product';
        if (r.status !== 'PUBLISHED') return r.status === 'YANKED' ? 'yanked' : 'not-published';
        let denied: VisibilityDenial = 'product';
        // a plain loop: this runs for every release an update check walks past (no closure per call)
        for (const l of viewer.licenses) {
          const why = licenseDenial(viewer, l, entry, bearer.kind === 'user', now);
          if (why === null) return null;
          if (DENIAL_RANK[why] > DENIAL_RANK[denied]) denied = why;
        }
        return isOpen(viewer, entry) ? null : denied;
      }
      case 'anonymous':
        if (bearer.accountId === null || r.accountId !== bearer.accountId) return 'product';
        if (r.status !== 'PUBLISHED') return r.status === 'YANKED' ? 'yanked' : 'not-published';
        return isOpen(viewer, entry) ? null : entry.entitlementIds.length ? 'constraint' : 'product';
      default:
        return 'product';
    }
  }

  /** The entitlements of a release that a license lacks (what a `constraint` denial names). */
  static missingEntitlements(l: LicenseFacts, entry: ReleaseFacts): string[] {
    return entry.entitlementIds.filter((id) => !l.entitlementIds.has(id));
  }

  /** Writes (create, update, delete, yank, publish, upload, constraints): admin or the product's token. */
  static canWrite(bearer: Bearer, release: Pick<Release, 'accountId' | 'productId'>): boolean {
    if (bearer.kind === 'admin') return bearer.accountId === release.accountId;
    if (bearer.kind === 'product') return bearer.accountId === release.accountId && bearer.productId === release.productId;
    return false;
  }

  /** May the bearer create releases for this product? */
  static canWriteProduct(bearer: Bearer, accountId: string, productId: string): boolean {
    return ReleaseVisibilityPolicy.canWrite(bearer, { accountId, productId });
  }
}

/** Memory twin of openSql. */
function isOpen(viewer: ViewerFacts, entry: ReleaseFacts): boolean {
  return entry.entitlementIds.length === 0 && viewer.strategyOf(entry.release.productId) === 'OPEN';
}

/**
 * Why a release is out of the caller's reach (ReleaseVisibilityPolicy.denial): not PUBLISHED
 * (`not-published`, `yanked`), the license's expiry window (`expired`), a missing entitlement
 * (`constraint`), or the product (another product's, CLOSED, or not open to the caller: `product`).
 */
export type VisibilityDenial = 'not-published' | 'yanked' | 'expired' | 'constraint' | 'product';

/** Which denial of a user's licenses is told (the one that came closest). */
const DENIAL_RANK: Record<VisibilityDenial, number> = { product: 0, 'not-published': 1, yanked: 1, constraint: 2, expired: 3 };

/** Memory twin of licensedSql (a user's suspended licenses reach nothing). */
function licenseDenial(viewer: ViewerFacts, l: LicenseFacts, entry: ReleaseFacts, skipSuspended: boolean, now: number): VisibilityDenial | null {
  const r = entry.release;
  if (skipSuspended && l.suspended) return 'product';
  if (l.productId !== r.productId) return 'product';
  const strategy = viewer.strategyOf(r.productId);
  if (strategy !== 'LICENSED' && strategy !== 'OPEN') return 'product';
  if (!inLicenseWindow(licenseWindow(l, now), r.created)) return 'expired';
  for (const id of entry.entitlementIds) if (!l.entitlementIds.has(id)) return 'constraint';
  return null;
}

/**
 * The entitlements a row requires, as a relation with column `entitlement_id`: its release's
 * constraints, and its artifact's when the row names one (artifactColumn).
 */
function requiredSql(r: string, artifactColumn?: string): string {
  const release = `SELECT entitlement_id FROM release_constraints WHERE release_id = ${r}.id`;
  return artifactColumn ? `(${release} UNION ALL SELECT entitlement_id FROM artifact_constraints WHERE artifact_id = ${artifactColumn})` : `(${release})`;
}

/** PUBLISHED unconstrained releases of OPEN products: what everyone may see. */
function openSql(r: string, required: string): string {
  return `(EXISTS (SELECT 1 FROM products op WHERE op.id = ${r}.product_id AND op.distribution_strategy = 'OPEN')
    AND NOT EXISTS (SELECT 1 FROM ${required} orc))`;
}

/**
 * licensedSql for one license whose facts are known up front (a license bearer carries them): the
 * product and expiry window become constants, the product's strategy one lookup for the whole
 * query, and each row only checks that its constraints are among the license's entitlements.
 */
function licenseFactsSql(r: string, l: LicenseFacts, now: number, required: string): { sql: string; params: Record<string, unknown> } {
  const window = licenseWindowSql(licenseWindow(l, now), `${r}.created`, 'rpExpiry');
  if (window.sql === 'false') return window;
  return {
    sql: `(${r}.product_id = :rpProduct AND ${window.sql}
      AND EXISTS (SELECT 1 FROM products lp WHERE lp.id = :rpProduct AND lp.distribution_strategy IN ('LICENSED', 'OPEN'))
      AND NOT EXISTS (SELECT 1 FROM ${required} rc WHERE rc.entitlement_id <> ALL(CAST(:rpEntitlements AS uuid[]))))`,
    params: { rpProduct: l.productId, rpEntitlements: [...l.entitlementIds], ...window.params },
  };
}

/**
 * Releases reachable through a license matching `licenseFilter` (over alias `l`): same product,
 * product not CLOSED, every constraint held by the license, inside the license's expiry window
 * (licenseWindow).
 */
function licensedSql(r: string, licenseFilter: string, required: string): string {
  return `EXISTS (
    SELECT 1 FROM licenses l
      JOIN products lp ON lp.id = l.product_id AND lp.distribution_strategy IN ('LICENSED', 'OPEN')
     WHERE ${licenseFilter}
       AND l.account_id = ${r}.account_id
       AND l.product_id = ${r}.product_id
       AND ${licenseRowWindowSql('l', `${r}.created`)}
       AND NOT EXISTS (
         SELECT 1 FROM ${required} rc
          WHERE NOT EXISTS (SELECT 1 FROM license_entitlements le WHERE le.license_id = l.id AND le.entitlement_id = rc.entitlement_id)))`;
}

/**
 * A key shared by every caller who sees exactly the same releases (the memory rule reads nothing
 * else): the caller kind and, per license, its product, expiry window and entitlements. Lists and
 * update checks memoize their answers under it.
 */
export function visibilityClass(viewer: ViewerFacts, now = Date.now()): string {
  const { bearer } = viewer;
  switch (bearer.kind) {
    case 'anonymous':
      return 'anonymous';
    case 'admin':
      return 'admin';
    case 'product':
      return `product:${bearer.productId}`;
    case 'license':
      // kept with the license's facts: the hot path builds no string here
      return viewer.licenses.length === 1 ? keptLicenseClass(viewer.licenses[0], now).ofLicense : 'license:';
    default: {
      const licenses = viewer.licenses.filter((l) => !(bearer.kind === 'user' && l.suspended)).map((l) => licenseClass(l, now));
      return `${bearer.kind}:${licenses.sort().join(';')}`;
    }
  }
}

/**
 * A license's class (`key`; `ofLicense`: the class of a caller holding that license alone), kept
 * with its facts (facts are replaced, never changed) until its expiry passes.
 */
function licenseClass(l: LicenseFacts, now: number): string {
  return keptLicenseClass(l, now).key;
}

/** The license's class, kept on its facts (the catalogue replaces facts, never changes them) until its window changes. */
function keptLicenseClass(l: LicenseFacts, now: number): LicenseClass {
  const kept = l.visibilityClass;
  if (kept && now < kept.until) return kept;
  const window = licenseWindow(l, now);
  const windowKey = typeof window === 'string' ? window : `until ${window.until.getTime()}`;
  const key = `${l.productId} ${windowKey} ${[...l.entitlementIds].sort().join(',')}`;
  return (l.visibilityClass = { key, ofLicense: `license:${key}`, until: licenseWindowKeptUntil(l, now) });
}
