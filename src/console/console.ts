import fs from 'node:fs';
import path from 'node:path';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import type { INestApplication } from '@nestjs/common';
import type { AppConfig } from '../config/config';

/**
 * The admin console (`/admin`) and the customer portal (`/portal/:account`): static files built by
 * `npm run build` from `web/` into `dist/console` (docs/console.md). Both pages are single-page
 * apps on the public API only, so the server's part is serving files: hashed assets cached for a
 * year, the two HTML shells for every path under their prefix (the apps route in the browser), and
 * a strict Content-Security-Policy (scripts, styles and connections to this origin, plus the
 * storage's origin that upload URLs point at).
 */

/** Where the built pages are: next to the compiled server (dist/console), else under the working directory (tests run from src/). */
export function consoleDirectory(): string | null {
  const here = typeof __dirname === 'string' ? __dirname : path.resolve('dist/src/console');
  for (const dir of [path.resolve(here, '..', '..', 'console'), path.resolve('dist/console')]) {
    if (fs.existsSync(path.join(dir, 'admin.html'))) return dir;
  }
  return null;
}

/** The CSP of the pages: nothing from another host, except the origins upload and download URLs point at. */
export function consolePolicy(config: Pick<AppConfig, 'publicUrl' | 'storageDriver' | 's3'>): string {
  const connect = new Set(["'self'", new URL(config.publicUrl).origin]);
  if (config.storageDriver === 's3') {
    // presigned upload URLs: the endpoint itself (path style) or a bucket's host under it
    const endpoint = config.s3?.endpoint ? new URL(config.s3.endpoint) : new URL('https://amazonaws.com');
    connect.add(endpoint.origin).add(`${endpoint.protocol}//*.${endpoint.host}`);
  }
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${[...connect].join(' ')}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const PREFIXES = ['/admin', '/portal/', '/console/'];

/** Mounts the pages in front of the API routes (one prefix test per API request). Does nothing when the pages were not built. */
export function serveConsole(app: INestApplication, config: Pick<AppConfig, 'publicUrl' | 'storageDriver' | 's3'>, dir = consoleDirectory()): void {
  const policy = consolePolicy(config);
  const assets = dir ? express.static(dir, { index: false, immutable: true, maxAge: '365d', fallthrough: false }) : null;
  const shell = (file: string) => (dir ? fs.readFileSync(path.join(dir, file)) : Buffer.from('The console was not built: run npm run build.\n'));
  const pages = { admin: shell('admin.html'), portal: shell('portal.html') };
  const handler = (req: Request, res: Response, next: NextFunction) => {
    const url = req.url;
    if (!PREFIXES.some((p) => url.startsWith(p))) return next();
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    res.setHeader('Content-Security-Policy', policy);
    if (url.startsWith('/console/')) {
      if (!assets) return next();
      req.url = url.slice('/console'.length);
      return assets(req, res, (error?: unknown) => {
        req.url = url;
        if (error) res.status(404).type('text/plain').end('Not found\n');
        else next();
      });
    }
    // /admin, /admin/..., /admin?...; /portal/<account>... (not /administrator, not /portal/ alone)
    const page = url.startsWith('/admin') ? (url.length === 6 || url[6] === '/' || url[6] === '?' ? pages.admin : null) : /^\/portal\/[^/?]/.test(url) ? pages.portal : null;
    if (!page) return next();
    res.status(dir ? 200 : 503);
    res.setHeader('Content-Type', dir ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache');
    res.end(req.method === 'HEAD' ? undefined : page);
  };
  app.use(handler);
}
