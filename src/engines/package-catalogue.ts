import { Injectable } from '@nestjs/common';
import type { Bearer } from '../access/bearer';
import { CatalogueService, normalizePackageName } from '../catalogue/catalogue.service';
import type { AccountPackages, ProductView } from '../catalogue/catalogue.service';
import type { CatalogueRelease } from '../catalogue/product-releases';
import { CountersService } from '../counters/counters.service';
import { mayReadProduct } from '../feeds/feeds.service';
import { ApiError, ErrorCode } from '../jsonapi/errors';
import type { Package, PackageEngine } from '../packages/package.entity';
import type { Artifact } from '../releases/artifact.entity';
import type { Release } from '../releases/release.entity';
import { ReleaseVisibilityPolicy, visibilityClass } from '../releases/release.policy';
import type { ReleaseFacts } from '../releases/release.policy';
import { offeredTo } from '../releases/rollout';
import { compareLineOrder } from '../releases/semver';
import { cohortOf, countsAsCustomer } from '../upgrades/upgrade-finder';
import { callerPin, pinAdmits } from '../upgrades/update-policy';

/** What an engine serves: a package, or (raw without `@package`) the product's releases in no package (`id` null). */
export type PackageSubject = Pick<Package, 'key' | 'productId' | 'updated'> & { id: string | null };

/** The product's releases that belong to no package, as a subject of the raw engine. */
export function releasesInNoPackage(productId: string): PackageSubject {
  return { id: null, key: '', productId, updated: new Date(0) };
}

/** A package and the caller's view of its product (the catalogue's, memory when warm). */
export interface PackageView {
  pkg: PackageSubject;
  view: ProductView;
}

/** One file a package version offers the caller. */
export interface PackageFile {
  /** The release as the file offers it (a 1.1 release's offer shows the artifact's platform and file). */
  release: Release;
  artifact: Artifact;
}

/** A version of a package the caller may install, with the files it may download. */
export interface PackageVersion {
  release: Release;
  /** Listed only so that the client can explain it (PEP 592): never downloadable, never chosen. */
  yanked: boolean;
  files: PackageFile[];
}

/**
 * What every engine reads: a package by the name its package manager uses, and the versions and
 * files of it that the caller may install. The choice is the one the rest of the API makes, over
 * the catalogue's copy of the product: ReleaseVisibilityPolicy.sees (status, product strategy,
 * licence window, the release's and the artifact's constraints) and the rollout cohort
 * (offeredTo with cohortOf). Drafts are never offered; yanked releases only to PyPI's listing.
 */
@Injectable()
export class PackageCatalogue {
  constructor(
    private readonly catalogue: CatalogueService,
    private readonly counters: CountersService,
  ) {}

  /** The account's packages (memory when warm). */
  packages(accountId: string): Promise<AccountPackages> {
    return this.catalogue.accountPackages(accountId);
  }

  /**
   * The package of this engine named `name` (`normal`: compared in PEP 503's normal form) and the
   * caller's view of its product; null when there is none or the caller may not read its product.
   */
  async find(bearer: Bearer, accountId: string, engine: PackageEngine | null, name: string, normal = false): Promise<PackageView | null> {
    const packages = await this.packages(accountId);
    const pkg = normal ? packages.byNormalName.get(normalizePackageName(name)) : packages.byKey.get(name);
    if (!pkg || (engine !== null && pkg.engine !== engine)) return null;
    return this.viewOf(bearer, accountId, pkg);
  }

  /** The caller's view of the package's product, or null when it may not read that product. */
  async viewOf(bearer: Bearer, accountId: string, pkg: PackageSubject): Promise<PackageView | null> {
    const view = await this.catalogue.productView(bearer, accountId, pkg.productId);
    if (!view || !mayReadProduct(view.viewer, view.product)) return null;
    return { pkg, view };
  }

  /**
   * The package's versions the caller may install, highest precedence first, each with its
   * UPLOADED files the caller may download; versions with no such file are left out.
   * `withYanked`: yanked releases the caller saw before the yank are listed too, flagged.
   */
  versions(pv: PackageView, withYanked: boolean): PackageVersion[] {
    const { viewer } = pv.view;
    const cohort = cohortOf(viewer, { productId: pv.pkg.productId });
    // a license's versionPin limits what it may install, as it limits what update checks offer
    const pin = callerPin(viewer, pv.pkg.productId);
    const now = Date.now();
    const out: PackageVersion[] = [];
    for (const entry of this.entriesOf(pv)) {
      const r = entry.release;
      const yanked = r.status === 'YANKED';
      if (r.status === 'NOT_PUBLISHED' || (yanked && !withYanked)) continue;
      if (!ReleaseVisibilityPolicy.sees(viewer, yanked ? asPublished(entry) : entry, now)) continue;
      if (!offeredTo(r.id, r.rolloutPercentage, cohort) || !pinAdmits(pin, r)) continue;
      const files: PackageFile[] = [];
      if (entry.offers) {
        for (const offer of entry.offers) if (ReleaseVisibilityPolicy.sees(viewer, yanked ? asPublished(offer) : offer, now)) files.push({ release: offer.release, artifact: offer.artifact! });
      } else if (entry.artifact?.status === 'UPLOADED') {
        files.push({ release: r, artifact: entry.artifact });
      }
      if (files.length) out.push({ release: r, yanked, files });
    }
    return out;
  }

  /**
   * An answer kept with the product's load (MEMO_KINDS.engineAnswer) for every caller who would get
   * the same one: the package row, the product's strategy, the caller's visibility class and, for a
   * license, its id (its rollout cohort). A user's answer is computed each time.
   */
  memo<T>(pv: PackageView, kind: string, compute: () => T): T {
    const { bearer } = pv.view.viewer;
    if (bearer.kind === 'user' || (bearer.kind === 'license' && !bearer.facts)) return compute();
    const caller = bearer.kind === 'license' ? `${bearer.license.id}|${bearer.facts?.versionPin ?? ''}|${visibilityClass(pv.view.viewer)}` : visibilityClass(pv.view.viewer);
    const key = `${kind}|${pv.pkg.id}|${pv.pkg.updated.getTime()}|${pv.view.product.distributionStrategy}|${caller}`;
    return pv.view.releases.memos.table('engineAnswer').get(key, compute);
  }

  /** A customer's read of a package's index (the package manager checking for versions): an update check. */
  countCheck(pv: PackageView): void {
    if (countsAsCustomer(pv.view.viewer.bearer) && !pv.view.viewer.bearer.probe) this.counters.countCheck();
  }

  /** The package's releases in this load of its product, highest precedence first (kept per load). */
  private entriesOf(pv: PackageView): CatalogueRelease[] {
    const releases = pv.view.releases;
    return releases.memos.table('packageReleases').get(pv.pkg.id ?? '', () => {
      const mine: CatalogueRelease[] = [];
      for (const e of releases.byId.values()) if (e.release.packageId === pv.pkg.id) mine.push(e);
      return mine.sort((a, b) => compareLineOrder(b.release, a.release));
    });
  }
}

/** A yanked release as it was seen while published (for PyPI's listing of yanked files only). */
function asPublished(entry: ReleaseFacts): ReleaseFacts {
  return { release: { ...pick(entry.release), status: 'PUBLISHED' }, entitlementIds: entry.entitlementIds };
}

function pick(r: ReleaseFacts['release']): ReleaseFacts['release'] {
  return { accountId: r.accountId, productId: r.productId, status: r.status, created: r.created };
}

/**
 * A package the caller may not see, or none of that name: a caller without a credential is asked
 * for one (401 with WWW-Authenticate, so that pip prompts and npm says so), anyone else gets 404.
 * The same answer either way, so that no one learns which private packages exist.
 */
export function packageNotFound(bearer: Bearer): ApiError {
  if (bearer.kind === 'anonymous') {
    return new ApiError(401, ErrorCode.TOKEN_MISSING, 'This package needs a license key: log in as license:<key>', { header: 'Authorization' }, { 'WWW-Authenticate': 'Basic realm="shipgate", charset="UTF-8"' });
  }
  return ApiError.notFound('The package was not found');
}
