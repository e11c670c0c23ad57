import type { Request, Response } from 'express';
import type { AppConfig } from '../config/config';
import { noteErrorCode } from './request-id';

const ALLOWED_HEADERS = 'Authorization, Content-Type, Content-Digest, Prefer, Accept, Range, If-None-Match, X-Request-Id';
const EXPOSED_HEADERS = 'Location, X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Content-Disposition, Preference-Applied';
const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';

/**
 * What every answer carries and what browsers need, kept to a few header writes: the headers of
 * the security headers and CORS. CORS work happens only for requests that carry an Origin (browsers); a
 * preflight is answered here (204, or 403 for an origin outside CORS_ORIGINS). No cookies are
 * involved: credentials travel in headers. Returns true when it answered the request itself.
 */
export function edgeHeaders(config: Pick<AppConfig, 'corsOrigins'>) {
  const anyOrigin = config.corsOrigins === '*';
  const origins = new Set(anyOrigin ? [] : config.corsOrigins);
  return function headers(req: Request, res: Response, id: string): boolean {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    if (!anyOrigin) res.setHeader('Vary', 'Origin');
    const origin = req.headers.origin;
    if (origin === undefined) return false;
    const allowed = anyOrigin || origins.has(origin);
    if (allowed) {
      res.setHeader('Access-Control-Allow-Origin', anyOrigin ? '*' : origin);
      res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    }
    if (req.method !== 'OPTIONS' || req.headers['access-control-request-method'] === undefined) return false;
    // a preflight
    if (!allowed) {
      noteErrorCode(req, 'CORS_ORIGIN_FORBIDDEN');
      res.status(403).type('application/vnd.api+json').end(
        JSON.stringify({
          errors: [{ status: '403', code: 'CORS_ORIGIN_FORBIDDEN', title: 'Access denied', detail: 'This origin is not in CORS_ORIGINS', source: { header: 'Origin' } }],
          meta: { id },
        }),
      );
      return true;
    }
    res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS);
    res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
    res.setHeader('Access-Control-Max-Age', '600');
    res.status(204).end();
    return true;
  };
}
