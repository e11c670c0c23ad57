import type { SemVer } from 'semver';
import type { ViewerFacts } from '../access/viewer';
import type { CatalogueRelease, ProductReleases } from '../catalogue/product-releases';
import type { Release } from '../releases/release.entity';
import { ReleaseVisibilityPolicy } from '../releases/release.policy';
import { offeredTo, rolloutBucket } from '../releases/rollout';
import { compareLineOrder, comparePrecedence, INCLUSIVE_CHANNELS, semverColumns } from '../releases/semver';
import { callerLicense, callerPin, pinAdmits } from './update-policy';
import type { PolicyReason } from './update-policy';
import { admits, cohortOf, isAuxiliary, steppingStoneFor, walkLine } from './upgrade-finder';
import type { OfferedRelease, ReleaseLine } from './upgrade-finder';

/** Releases explained at most. */
export const EXPLAIN_MAX = 50;

/** One release of the line and the decision for the caller, with what the rule read. */
export interface Explanation {
  entry: CatalogueRelease;
  decision: PolicyReason | 'suspended';
  /** constraint: the entitlements the license lacks. */
  missingEntitlementIds?: string[];
  /** rollout: the caller's bucket (null: no license or installId) and the release's percentage. */
  bucket?: number | null;
  percentage?: number;
  /** pin: the license's pin. */
  pin?: string;
  /** stepping-stone: the required release that comes first. */
  required?: Release;
}

export interface LineExplanation {
  /** What every update route and feed offers this caller (walkLine's decision). */
  offer: OfferedRelease | null;
  items: Explanation[];
}

/**
 * "Why no update?": walkLine's decision for the caller, and for each of the newest releases of the
 * line's operating system (at most 50, line order) the rule that kept it from being offered, read
 * from the same rules walkLine applies (the line's filters, ReleaseVisibilityPolicy.denial, the
 * rollout cohort, the pin, the stepping stone), in the order it applies them.
 */
export function explainLine(viewer: ViewerFacts, product: ProductReleases, line: ReleaseLine, current: SemVer, suspended = false): LineExplanation {
  const offer = suspended ? null : walkLine(viewer, product, line, current);
  const from = semverColumns(current);
  const channels = INCLUSIVE_CHANNELS[line.channel];
  const now = Date.now();
  const cohort = cohortOf(viewer, line);
  const pin = callerPin(viewer, line.productId);
  const license = callerLicense(viewer, line.productId);
  const stone = suspended ? null : steppingStoneFor(viewer, product, line, current);
  const items: Explanation[] = [];
  for (const entry of newestOfOs(product, line.platform)) {
    const r = entry.release;
    const explain = (decision: Explanation['decision'], extra: Partial<Explanation> = {}) => items.push({ entry, decision, ...extra });
    if (offer && offer.release === r && offer.artifact === entry.artifact) {
      explain('offered');
      continue;
    }
    if (r.platform !== line.platform || !fileMatches(line, r)) {
      explain('platform');
      continue;
    }
    if (!channels.includes(r.channel)) {
      explain('channel');
      continue;
    }
    if (suspended) {
      explain('suspended');
      continue;
    }
    const denial = ReleaseVisibilityPolicy.denial(viewer, entry, now);
    if (denial === 'constraint') {
      explain('constraint', { missingEntitlementIds: license ? ReleaseVisibilityPolicy.missingEntitlements(license, entry) : [...entry.entitlementIds] });
      continue;
    }
    if (denial !== null) {
      explain(denial === 'product' ? 'closed' : denial);
      continue;
    }
    // the upgrade action offers a file only once it is uploaded
    if (!admits(line, channels, entry)) {
      explain('not-published');
      continue;
    }
    if (comparePrecedence(r, from) <= 0) {
      explain('not-newer');
      continue;
    }
    if (!offeredTo(r.id, r.rolloutPercentage, cohort)) {
      explain('rollout', { bucket: typeof cohort === 'string' ? rolloutBucket(r.id, cohort) : null, percentage: r.rolloutPercentage });
      continue;
    }
    if (!pinAdmits(pin, r)) {
      explain('pin', { pin: pin!.text });
      continue;
    }
    if (stone && comparePrecedence(r, stone) > 0) {
      explain('stepping-stone', { required: stone });
      continue;
    }
    explain('superseded');
  }
  return { offer, items };
}

/** The line's file filter (filetype when named; no auxiliary file of a 1.1 release otherwise). */
function fileMatches(line: ReleaseLine, r: Release): boolean {
  if (line.filetype !== undefined) return r.filetype === line.filetype;
  return !(r.multiArtifact && isAuxiliary(r.filetype));
}

/** The newest releases of every line of the platform's operating system, in line order (at most EXPLAIN_MAX). */
function newestOfOs(product: ProductReleases, platform: string): CatalogueRelease[] {
  const os = platform.split('/')[0];
  const picked: CatalogueRelease[] = [];
  for (const [p, entries] of product.lines) {
    if (p.split('/')[0] !== os) continue;
    for (let i = 0; i < entries.length && i < EXPLAIN_MAX; i++) picked.push(entries[i]);
  }
  return picked.sort((a, b) => compareLineOrder(b.release, a.release)).slice(0, EXPLAIN_MAX);
}
