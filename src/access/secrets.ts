import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Tokens are stored as SHA-256 digests: a 256-bit random secret needs no slow hash. */
export function tokenDigest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Whether a secret has the shape of a token newTokenSecret issued (`<kind>-<64 hex digits>`). */
export function isIssuedTokenShape(secret: string): boolean {
  return /^[a-z]+-[0-9a-f]{64}$/.test(secret);
}

export function newTokenSecret(prefix: string): string {
  return `${prefix}-${randomBytes(32).toString('hex')}`;
}

/** Constant-time equality of two strings of any length. */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}
