import type { Request } from 'express';
import { ApiError, ErrorCode } from './errors';
import { fullPath } from './media-type';

interface RouteLayer {
  match(path: string): unknown;
  route?: { _methods(): string[] };
}

/**
 * The methods the router serves at this request's path (for `405` + `Allow` when a known path is
 * called with another method). Only asked on the not-found path, never on a matched request.
 */
export function allowedMethods(req: Request): string[] {
  const stack = ((req.app as unknown as { router?: { stack?: RouteLayer[] } }).router?.stack ?? []) as RouteLayer[];
  const path = fullPath(req);
  const methods = new Set<string>();
  for (const layer of stack) {
    if (!layer.route) continue;
    try {
      if (!layer.match(path)) continue;
    } catch {
      continue; // a malformed percent-escape cannot match a route
    }
    for (const m of layer.route._methods()) if (m !== '*' && m !== '_ALL') methods.add(m);
  }
  if (methods.size) methods.add('OPTIONS');
  return [...methods];
}

/** `405 METHOD_NOT_ALLOWED` with `Allow` when the router serves this path (with any method), else undefined. */
export function methodNotAllowed(req: Request, allow: string[] = allowedMethods(req)): ApiError | undefined {
  if (!allow.length) return undefined;
  return new ApiError(405, ErrorCode.METHOD_NOT_ALLOWED, `${req.method} is not allowed here; allowed: ${allow.join(', ')}`, undefined, { Allow: allow.join(', ') });
}

/**
 * `405` for a request whose path the router serves, but not with its method; undefined otherwise.
 * The JSON:API edge asks it before refusing a body's media type (415) or an Accept (406), so that
 * `POST /releases/:id/artifact` with the file's bytes is told the method is wrong, not the type.
 */
export function wrongMethod(req: Request): ApiError | undefined {
  const allow = allowedMethods(req);
  return allow.includes(req.method) ? undefined : methodNotAllowed(req, allow);
}
