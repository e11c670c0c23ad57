import type { Request } from 'express';
import { queryParam } from '../jsonapi/query';

export type Credential =
  | { kind: 'token'; secret: string }
  | { kind: 'license'; key: string }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'none' }
  | { kind: 'malformed' };

/**
 * Reads the one credential of a request, in order: the Authorization header (Bearer, License,
 * Basic: `license:<key>` and `token:<token>` are a key and a token, other names email:password), then `?token=`, `?key=`, `?auth=license:<key>` / `?auth=token:<token>`.
 */
export function extractCredential(req: Request): Credential {
  const header = req.headers.authorization;
  if (header !== undefined && header.trim() !== '') {
    const m = /^\s*(\S+)\s+(.+?)\s*$/.exec(header);
    if (!m) return { kind: 'malformed' };
    const scheme = m[1].toLowerCase();
    if (scheme === 'bearer') return { kind: 'token', secret: m[2] };
    if (scheme === 'license') return { kind: 'license', key: m[2] };
    if (scheme === 'basic') {
      const decoded = Buffer.from(m[2], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0 || decoded.includes('\u0000')) return { kind: 'malformed' };
      const username = decoded.slice(0, colon);
      const password = decoded.slice(colon + 1);
      // package managers and docker log in as `license:<key>` or `token:<token>` (never an email)
      if (username === 'license' && password) return { kind: 'license', key: password };
      if (username === 'token' && password) return { kind: 'token', secret: password };
      return { kind: 'basic', username, password };
    }
    return { kind: 'malformed' };
  }
  const query = req.query as Record<string, unknown>;
  const token = queryParam(query, 'token');
  if (token) return { kind: 'token', secret: token };
  const key = queryParam(query, 'key');
  if (key) return { kind: 'license', key };
  const auth = queryParam(query, 'auth');
  if (auth) {
    const m = /^(license|token):(.+)$/.exec(auth);
    if (!m) return { kind: 'malformed' };
    return m[1] === 'license' ? { kind: 'license', key: m[2] } : { kind: 'token', secret: m[2] };
  }
  return { kind: 'none' };
}
