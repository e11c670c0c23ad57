import type { ExpirationStrategy } from '../access/strategies';

/** What a license's expiry window reads of it. */
export interface LicenseTerm {
  expiry: Date | null;
  expirationStrategy: ExpirationStrategy;
}

/**
 * Which releases, by creation date, a license may reach: all of them, none, or those created on
 * or before `until`.
 */
export type LicenseWindow = 'all' | 'none' | { until: Date };

/**
 * The window once the expiry has passed, per strategy (before it, or without one: 'all').
 * The single definition: the memory rule and both SQL forms below are read from it.
 */
const AFTER_EXPIRY: Record<ExpirationStrategy, 'all' | 'none' | 'until expiry'> = {
  ALLOW_ACCESS: 'all',
  RESTRICT_ACCESS: 'until expiry',
  REVOKE_ACCESS: 'none',
};

/** The license's window at `now` (milliseconds). */
export function licenseWindow(l: LicenseTerm, now: number): LicenseWindow {
  if (l.expiry === null || l.expiry.getTime() > now) return 'all';
  const after = AFTER_EXPIRY[l.expirationStrategy];
  return after === 'until expiry' ? { until: l.expiry } : after;
}

/** Whether a release created at `created` is inside the window. */
export function inLicenseWindow(window: LicenseWindow, created: Date): boolean {
  if (window === 'all') return true;
  if (window === 'none') return false;
  return created.getTime() <= window.until.getTime();
}

/** Until when (milliseconds) licenseWindow gives the same answer: the expiry, while it is ahead. */
export function licenseWindowKeptUntil(l: LicenseTerm, now: number): number {
  return l.expiry === null || l.expiry.getTime() <= now ? Infinity : l.expiry.getTime();
}

/**
 * The window of a license known up front, as a condition on a release's creation column
 * (`created`): a constant, or a comparison with the named parameter `param`.
 */
export function licenseWindowSql(window: LicenseWindow, created: string, param: string): { sql: string; params: Record<string, unknown> } {
  if (window === 'all') return { sql: 'true', params: {} };
  if (window === 'none') return { sql: 'false', params: {} };
  return { sql: `${created} <= :${param}`, params: { [param]: window.until } };
}

/**
 * The window of the license row aliased `l` (columns `expiry`, `expiration_strategy`), as a
 * condition on a release's creation column (`created`), evaluated at the database's now().
 */
export function licenseRowWindowSql(l: string, created: string): string {
  const after = (Object.keys(AFTER_EXPIRY) as ExpirationStrategy[]).flatMap((strategy) => {
    const is = `${l}.expiration_strategy = '${strategy}'`;
    const window = AFTER_EXPIRY[strategy];
    if (window === 'all') return [is];
    if (window === 'until expiry') return [`(${is} AND ${created} <= ${l}.expiry)`];
    return [];
  });
  return `(${[`${l}.expiry IS NULL`, `${l}.expiry > now()`, ...after].join(' OR ')})`;
}
