import type { Request } from 'express';
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
