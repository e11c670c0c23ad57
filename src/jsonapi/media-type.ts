import type { Request } from 'express';

export const JSONAPI_MEDIA_TYPE = 'application/vnd.api+json';

interface MediaRange {
  type: string;
  params: Record<string, string>;
}

function parseMediaRange(raw: string): MediaRange {
  const [type, ...params] = raw.split(';');
  const parsed: Record<string, string> = {};
  for (const p of params) {
    const [k, v = ''] = p.split('=');
    if (k.trim()) parsed[k.trim().toLowerCase()] = v.trim().replace(/^"|"$/g, '');
  }
  return { type: type.trim().toLowerCase(), params: parsed };
}

const JSONAPI_PARAMS = new Set(['ext', 'profile']);

/** Only `ext` and `profile` may qualify the JSON:API media type (JSON:API 1.1, "Content Negotiation"). */
function hasForeignParams(range: MediaRange): boolean {
  return Object.keys(range.params).some((k) => !JSONAPI_PARAMS.has(k));
}

/** Is a request body of this Content-Type acceptable? */
export function acceptableContentType(header: string | undefined): boolean {
  if (!header) return false;
  const range = parseMediaRange(header);
  if (range.type === 'application/json') return true;
  return range.type === JSONAPI_MEDIA_TYPE && !hasForeignParams(range);
}

/** Does the Accept header allow a JSON:API (or plain JSON) answer? */
export function acceptsJsonApi(header: string | undefined): boolean {
  if (!header || header === JSONAPI_MEDIA_TYPE || header === '*/*' || !header.trim()) return true;
  const ranges = header.split(',').map((r) => parseMediaRange(r)).filter((r) => (r.params.q ?? '1') !== '0');
  return ranges.some((r) => {
    if (r.type === JSONAPI_MEDIA_TYPE) {
      const { q: _q, ...rest } = r.params;
      return !hasForeignParams({ type: r.type, params: rest });
    }
    return r.type === 'application/json' || r.type === '*/*' || r.type === 'application/*';
  });
}

/** JSON:API unless the client asked for plain JSON only. */
export function responseMediaType(accept: string | undefined): string {
  if (accept === undefined || accept === JSONAPI_MEDIA_TYPE) return JSONAPI_MEDIA_TYPE;
  if (!/application\/vnd\.api\+json|\*\/\*|application\/\*/i.test(accept) && /application\/json/i.test(accept)) {
    return 'application/json; charset=utf-8';
  }
  return JSONAPI_MEDIA_TYPE;
}

/** Does the request carry a body (a length above 0, or chunked)? */
export function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}

/** The request's path without the query, whatever path a middleware was mounted on. */
export function fullPath(req: Request): string {
  const url = req.originalUrl ?? req.url;
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** Raw-byte routes (artifact uploads, and the signed upload URL) take any content type. */
export function isRawBodyRoute(req: Request): boolean {
  if (req.method !== 'PUT') return false;
  const path = fullPath(req);
  return /\/releases\/[^/]+\/artifact\/?$/.test(path) || /^\/v1\/accounts\/[^/]+\/artifacts\/[^/]+\/.+/.test(path);
}

/** Update feeds answer updaters (YAML, JSON, RSS), whatever they accept. */
export function isFeedRoute(req: Request): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && /^\/v1\/accounts\/[^/]+\/(products\/[^/]+\/feeds\/|engines\/)/.test(fullPath(req));
}

/** Signed download URLs serve files to any client (browsers, curl, updaters), whatever they accept. */
export function isSignedDownloadRoute(req: Request): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && /^\/v1\/accounts\/[^/]+\/artifacts\/[^/]+\/.+/.test(fullPath(req));
}
