import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { AppConfig } from '../config/config';

const VALID_INCOMING_ID = /^[A-Za-z0-9._-]{8,128}$/;

const ALLOWED_HEADERS = 'Authorization, Content-Type, Content-Digest, Prefer, Accept, Range, If-None-Match, X-Request-Id';
const EXPOSED_HEADERS = 'Location, X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Content-Disposition, Preference-Applied';
const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';

/**
 * The first thing every request meets, kept to a few header writes: a request id (a sane incoming
 * X-Request-Id is kept), the headers of API §10 on every answer, and CORS. CORS work happens only
 * for requests that carry an Origin (browsers); a preflight is answered here (204, or 403 for an
 * origin outside CORS_ORIGINS). No cookies are involved: credentials travel in headers.
 */
export function edgeMiddleware(config: Pick<AppConfig, 'corsOrigins'>) {
  const anyOrigin = config.corsOrigins === '*';
  const origins = new Set(anyOrigin ? [] : config.corsOrigins);
  return function edge(req: Request, res: Response, next: NextFunction): void {
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && VALID_INCOMING_ID.test(incoming) ? incoming : randomUUID();
    (req as Request & { id: string }).id = id;
    res.setHeader('X-Request-Id', id);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    if (!anyOrigin) res.setHeader('Vary', 'Origin');
    const origin = req.headers.origin;
    if (origin === undefined) return next();
    const allowed = anyOrigin || origins.has(origin);
    if (allowed) {
      res.setHeader('Access-Control-Allow-Origin', anyOrigin ? '*' : origin);
      res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    }
    if (req.method !== 'OPTIONS' || req.headers['access-control-request-method'] === undefined) return next();
    // a preflight
    if (!allowed) {
      res.status(403).type('application/vnd.api+json').end(
        JSON.stringify({
          errors: [{ status: '403', code: 'CORS_ORIGIN_FORBIDDEN', title: 'Access denied', detail: 'This origin is not in CORS_ORIGINS', source: { header: 'Origin' } }],
          meta: { id },
        }),
      );
      return;
    }
    res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS);
    res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
    res.setHeader('Access-Control-Max-Age', '600');
    res.status(204).end();
  };
}
