import { hash } from 'node:crypto';

/** The longest `installId` an anonymous caller may send (its stand-in for a license id). */
export const INSTALL_ID_MAX_LENGTH = 64;

/**
 * A caller's bucket for one release, 0..99: the first 4 bytes (big-endian) of
 * SHA-256(`<release id>:<license id or installId>`) mod 100. Sticky (the same caller always lands
 * in the same bucket of a release) and independent across releases.
 */
export function rolloutBucket(releaseId: string, subject: string): number {
  // one-shot hash (no Hash object per call); its first 8 hex digits are those 4 bytes
  return parseInt(hash('sha256', `${releaseId}:${subject}`).slice(0, 8), 16) % 100;
}

/**
 * Whether a staged release is offered to the caller: `subject` is its license id or installId,
 * null when it has neither (outside every partial rollout), undefined when rollouts do not apply
 * to it (admins and product tokens, who see everything). In cohort when bucket < percentage, so
 * raising the percentage only adds callers and 0 pauses the rollout.
 */
export function offeredTo(releaseId: string, percentage: number, subject: string | null | undefined): boolean {
  if (percentage >= 100 || subject === undefined) return true;
  if (subject === null || percentage <= 0) return false;
  return rolloutBucket(releaseId, subject) < percentage;
}

/** The same test in SQL over a release aliased `r`, for a caller `subject` bound as `:<param>`. */
export function offeredSql(r: string, subject: string | null | undefined, param = 'rolloutSubject'): { sql: string; params: Record<string, unknown> } {
  if (subject === undefined) return { sql: 'true', params: {} };
  if (subject === null) return { sql: `${r}.rollout_percentage >= 100`, params: {} };
  const bucket = `(('x' || substr(encode(sha256(convert_to(${r}.id::text || ':' || CAST(:${param} AS text), 'UTF8')), 'hex'), 1, 8))::bit(32)::bigint % 100)`;
  return { sql: `(${r}.rollout_percentage >= 100 OR ${bucket} < ${r}.rollout_percentage)`, params: { [param]: subject } };
}
