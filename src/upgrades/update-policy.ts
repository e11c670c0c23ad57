import { Range } from 'semver';
import type { LicenseFacts } from '../access/bearer';
import type { ViewerFacts } from '../access/viewer';
import { processMemo } from '../catalogue/memos';
import type { CatalogueRelease } from '../catalogue/product-releases';
import type { ProductPolicyFacts } from '../products/product-policy';
import type { Release } from '../releases/release.entity';
import { comparePrecedence, parseStrictVersion, semverColumns } from '../releases/semver';
import type { PrecedenceColumns } from '../releases/semver';

/**
 * The update policy's vocabulary, shared by every reader of one decision (upgrade routes, `/v3`,
 * the feeds, the package engines, and "why no update?"): a license's pin, a product's minimum
 * version and rollback, and the reasons a release is or is not offered. The decision itself is
 * walkLine (upgrade-finder.ts) in memory and UpgradeFinder's queries in SQL, tested against each
 * other; explainLine (explain.ts) reads the same rules per release.
 */

/**
 * Why a release is or is not offered to a caller, in the order the rules are applied: the line's
 * filters (`platform`, `channel`), the caller's visibility (`not-published`, `yanked`, `closed`,
 * `expired`, `constraint`), the caller's version (`not-newer`), its rollout cohort (`rollout`),
 * its license's pin (`pin`), a required release on the way (`stepping-stone`), and a newer release
 * offered instead (`superseded`).
 */
export type PolicyReason =
  | 'offered'
  | 'platform'
  | 'channel'
  | 'not-published'
  | 'yanked'
  | 'closed'
  | 'expired'
  | 'constraint'
  | 'not-newer'
  | 'rollout'
  | 'pin'
  | 'stepping-stone'
  | 'superseded';

// ---- pins ------------------------------------------------------------------------------------

type Operator = '<' | '<=' | '>' | '>=' | '=';

/** One comparator of a pin: the version it compares with, as precedence columns. */
export interface PinComparator {
  readonly op: Operator;
  readonly version: PrecedenceColumns;
}

/**
 * A license's `versionPin` compiled once: node-semver's reading of the range (with prereleases
 * included: a version matches when it satisfies every comparator of one alternative), as
 * precedence comparisons that memory (pinAdmits) and SQL (pinSql) evaluate alike.
 */
export interface CompiledPin {
  readonly text: string;
  /** Alternatives (OR) of comparators (AND); an empty alternative admits everything. */
  readonly alternatives: readonly (readonly PinComparator[])[];
}

/** The compiled pin (kept per text: catalogue/memos.ts); null when the text is not a semver range (the API refuses such pins). */
export function compilePin(text: string): CompiledPin | null {
  return processMemo('compiledPin').get(text, () => compile(text));
}

function compile(text: string): CompiledPin | null {
  let pin: CompiledPin | null = null;
  try {
    const range = new Range(text, { includePrerelease: true });
    pin = {
      text,
      alternatives: range.set.map((comparators) =>
        comparators
          .filter((c) => c.operator !== '' || c.value !== '')
          .map((c) => ({ op: (c.operator || '=') as Operator, version: semverColumns(c.semver) })),
      ),
    };
  } catch {
    pin = null;
  }
  return pin;
}

function comparatorAdmits(c: PinComparator, r: PrecedenceColumns): boolean {
  const order = comparePrecedence(r, c.version);
  switch (c.op) {
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
    default:
      return order === 0;
  }
}

/** Whether a release's version is inside the pin (memory twin of pinSql). */
export function pinAdmits(pin: CompiledPin | null, r: PrecedenceColumns): boolean {
  if (!pin) return true;
  for (const alternative of pin.alternatives) {
    let all = true;
    for (const c of alternative) {
      if (!comparatorAdmits(c, r)) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

/** The pin as SQL over a releases alias (row comparisons of precedence, as greaterThanSql). */
export function pinSql(alias: string, pin: CompiledPin | null, prefix = 'pin'): { sql: string; params: Record<string, unknown> } {
  if (!pin) return { sql: 'true', params: {} };
  const params: Record<string, unknown> = {};
  const row = `(${alias}.semver_major, ${alias}.semver_minor, ${alias}.semver_patch, ${alias}.semver_is_release, ${alias}.semver_pre_key)`;
  const alternatives = pin.alternatives.map((alternative, i) => {
    if (!alternative.length) return 'true';
    return `(${alternative
      .map((c, j) => {
        const p = `${prefix}${i}_${j}`;
        const v = c.version;
        Object.assign(params, { [`${p}Major`]: v.semverMajor, [`${p}Minor`]: v.semverMinor, [`${p}Patch`]: v.semverPatch, [`${p}IsRelease`]: v.semverIsRelease, [`${p}PreKey`]: v.semverPreKey });
        return `${row} ${c.op} (:${p}Major, :${p}Minor, :${p}Patch, :${p}IsRelease, CAST(:${p}PreKey AS text[]))`;
      })
      .join(' AND ')})`;
  });
  return { sql: alternatives.length ? `(${alternatives.join(' OR ')})` : 'false', params };
}

/** SQL for "this release's precedence <op> `version`" (row comparison, as greaterThanSql). */
export function precedenceSql(alias: string, op: Operator, version: PrecedenceColumns, prefix: string): { sql: string; params: Record<string, unknown> } {
  return pinSql(alias, { text: '', alternatives: [[{ op, version }]] }, prefix);
}

// ---- whose license decides -----------------------------------------------------------------

/**
 * The license whose id places the caller in rollout cohorts and whose pin limits its offers: a
 * license caller's own; a user's first usable license of the product (lowest id); none for others
 * (an admin or product token previewing a customer is answered as that license).
 */
export function callerLicense(viewer: ViewerFacts, productId: string): LicenseFacts | undefined {
  const bearer = viewer.bearer;
  if (bearer.kind === 'license') return viewer.licenses[0];
  if (bearer.kind !== 'user') return undefined;
  let first: LicenseFacts | undefined;
  for (const l of viewer.licenses) if (l.productId === productId && !l.suspended && (first === undefined || l.id < first.id)) first = l;
  return first;
}

/** The caller's pin for a product's line (null: none, the common case: no allocation). */
export function callerPin(viewer: ViewerFacts, productId: string): CompiledPin | null {
  const pin = callerLicense(viewer, productId)?.versionPin;
  return pin ? compilePin(pin) : null;
}

// ---- the product's policy ------------------------------------------------------------------

/** A product's policy as the decision reads it (the minimum version as precedence columns). */
export interface ProductPolicy {
  readonly minimum: PrecedenceColumns | null;
  readonly minimumVersion: string | null;
  readonly rollbackOnYank: boolean;
  /** Part of the keys of answers memoized with it. */
  readonly key: string;
}

/** The product's policy, compiled once per facts object (kept in catalogue/memos.ts: the catalogue replaces facts, never changes them). */
export function productPolicy(facts: ProductPolicyFacts | null | undefined): ProductPolicy | null {
  if (!facts) return null;
  return processMemo('productPolicy').of(facts, (): ProductPolicy => {
    const minimum = facts.minimumVersion === null ? null : parseStrictVersion(facts.minimumVersion);
    return { minimum: minimum ? semverColumns(minimum) : null, minimumVersion: facts.minimumVersion, rollbackOnYank: facts.rollbackOnYank, key: facts.key };
  });
}

/** Whether the caller's version is below the product's minimum (its update answers are critical). */
export function belowMinimum(policy: ProductPolicy | null, current: PrecedenceColumns): boolean {
  return !!policy?.minimum && comparePrecedence(current, policy.minimum) < 0;
}

// ---- the line ------------------------------------------------------------------------------

/** The first index of a line (highest first) whose precedence is not above `current`. */
export function firstNotAbove(entries: readonly CatalogueRelease[], current: PrecedenceColumns): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (comparePrecedence(entries[mid].release, current) > 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * Whether the caller's version is a yanked release of the line (what rollbackOnYank reads): a
 * release of that version, on the line's platform (and filetype, when the check names one; not an
 * auxiliary file otherwise), that is YANKED. `fileOf` is the line's file filter.
 */
export function yankedOnLine(entries: readonly CatalogueRelease[], current: PrecedenceColumns, fileOf: (r: Release) => boolean): boolean {
  for (let i = firstNotAbove(entries, current); i < entries.length; i++) {
    const r = entries[i].release;
    if (comparePrecedence(r, current) !== 0) return false;
    if (r.status === 'YANKED' && fileOf(r)) return true;
  }
  return false;
}
