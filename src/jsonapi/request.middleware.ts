import { randomUUID } from 'node:crypto';
import { parse as parseQueryString } from 'node:querystring';
import type { ParsedUrlQuery } from 'node:querystring';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import type { AppConfig } from '../config/config';
import { wrongMethod } from './allowed-methods';
import { escapePointer } from './document';
import { edgeHeaders } from './edge';
import { ApiError, ErrorCode } from './errors';
import { negotiateApiVersion } from './api-version';
import { acceptsJsonApi, acceptableContentType, hasBody, isFeedRoute, isRawBodyRoute, isSignedDownloadRoute, JSONAPI_MEDIA_TYPE, responseMediaType } from './media-type';

export const BODY_LIMIT_BYTES = 1024 * 1024;
/** Limits and hardening: a JSON body must arrive whole within 30 s (uploads have their own idle timeout). */
export const BODY_TIMEOUT_MS = 30_000;

const parseJson = express.json({
  type: ['application/vnd.api+json', 'application/json'],
  limit: BODY_LIMIT_BYTES,
  strict: false,
});

const VALID_REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

/** What the edge puts on every request. */
export interface EdgeRequest extends Request {
  /** The request id (a sane incoming X-Request-Id, else a new UUID), echoed as X-Request-Id. */
  id: string;
}

/** Renders an error the way the global filter does (the edge runs before Nest's pipeline). */
export type ErrorResponder = (error: unknown, req: Request, res: Response) => void;

/**
 * The JSON:API edge, one plain express middleware in front of every route (not Nest middleware:
 * an update check pays for one function call, no router layer per concern and no promise):
 * - a request id, echoed as X-Request-Id; the security headers and CORS (see edgeHeaders);
 * - NUL in the path or query is 400 (PostgreSQL text cannot hold it);
 * - (the query string is parsed once per request: parseQueryOnce);
 * - `/v1` media types: 406 for an Accept that rules JSON:API out, 415 for a body in another type
 *   (405 instead when the path is known but not with this method);
 * - the JSON body, parsed only when there is one (400 malformed, 413 over 1 MiB, 408 when slower
 *   than 30 s, 415 for a charset other than UTF-8, 400 for a lone surrogate or a body that does
 *   not decompress); artifact uploads stream raw.
 * Its errors are rendered by `respond` (the global filter's renderer). `observe` (the request log
 * and metrics) runs first, in the same layer.
 */
export function jsonApiEdge(config: Pick<AppConfig, 'corsOrigins'>, respond: ErrorResponder, observe?: (req: Request, res: Response) => void) {
  const headers = edgeHeaders(config);
  return function edge(req: Request, res: Response, next: NextFunction): void {
    // first: the request log and metrics see every answer, the edge's own (406, 415, 400, preflights) too
    observe?.(req, res);
    const r = req as EdgeRequest;
    const incoming = req.headers['x-request-id'];
    r.id = typeof incoming === 'string' && VALID_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', r.id);
    if (headers(req, res, r.id)) return; // a CORS preflight, answered
    const url = req.url;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    try {
      negotiateApiVersion(req, res);
    } catch (error) {
      return respond(error, req, res);
    }
    if (url.includes('%00')) {
      return respond(new ApiError(400, ErrorCode.PARAMETER_INVALID, 'The URL must not contain NUL characters'), req, res);
    }
    const body = hasBody(req) && !isRawBodyRoute(req);
    if (path.startsWith('/v1/') && !isSignedDownloadRoute(req) && !isFeedRoute(req)) {
      // a known path with a method it does not serve is 405 first, whatever the media types
      if (!acceptsJsonApi(req.headers.accept)) {
        const e = new ApiError(406, ErrorCode.MEDIA_TYPE_UNACCEPTABLE, `The Accept header must allow ${JSONAPI_MEDIA_TYPE}`, { header: 'Accept' });
        return respond(wrongMethod(req) ?? e, req, res);
      }
      if (body && !acceptableContentType(req.headers['content-type'])) {
        const e = new ApiError(415, ErrorCode.MEDIA_TYPE_UNSUPPORTED, `The request body must be ${JSONAPI_MEDIA_TYPE} without parameters other than ext or profile`, {
          header: 'Content-Type',
        });
        return respond(wrongMethod(req) ?? e, req, res);
      }
      // handlers answer with objects; express keeps a Content-Type that is already set
      res.setHeader('Content-Type', responseMediaType(req.headers.accept));
    }
    // most requests (every update check) have no body: nothing to parse
    if (!body) return next();
    readJsonBody(req, res).then(next, (error: unknown) => respond(error, req, res));
  };
}

const PARSED_QUERY = Symbol('shipgate.query');

/**
 * Express 5 parses the query string again on every read of `req.query` (the guard, the route's
 * locator and the handler each read it): this app's requests parse it once, on first read, with
 * the 'simple' parser (node:querystring) the app is configured with.
 */
export function parseQueryOnce(requestPrototype: object): void {
  Object.defineProperty(requestPrototype, 'query', {
    configurable: true,
    enumerable: true,
    get(this: Request & { [PARSED_QUERY]?: ParsedUrlQuery }): ParsedUrlQuery {
      let parsed = this[PARSED_QUERY];
      if (parsed === undefined) {
        const url = this.url;
        const q = url.indexOf('?');
        this[PARSED_QUERY] = parsed = q < 0 ? {} : parseQueryString(url.slice(q + 1));
      }
      return parsed;
    },
  });
}

/** The JSON body, checked for what PostgreSQL and the API need (UTF-8 text, no lone surrogates). */
async function readJsonBody(req: Request, res: Response): Promise<void> {
  const charset = charsetOf(req.headers['content-type']);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new ApiError(415, ErrorCode.MEDIA_TYPE_UNSUPPORTED, 'The request body must be UTF-8', { header: 'Content-Type' });
  }
  const declared = Number(req.headers['content-length']);
  if (declared > BODY_LIMIT_BYTES) {
    // answered before a byte is read (the body parser would wait for the whole body first);
    // what the client still sends is read and dropped for a moment, so that the answer reaches it
    lingerThenClose(req);
    throw new ApiError(413, ErrorCode.REQUEST_TOO_LARGE, `The request body exceeds the size limit (${BODY_LIMIT_BYTES} bytes)`, { header: 'Content-Length' }, { Connection: 'close' });
  }
  await readWithin(BODY_TIMEOUT_MS, req, res);
  const pointer = loneSurrogatePointer(req.body);
  if (pointer !== null) {
    throw new ApiError(400, ErrorCode.CHARACTER_INVALID, 'A string holds a lone UTF-16 surrogate (not a character)', { pointer });
  }
}

/** How long a refused body is still read (and dropped) before its connection is cut. */
const LINGER_MS = 5_000;

/**
 * Reads and drops the rest of a body that will not be used, then closes the connection after at
 * most LINGER_MS: closing while the client still sends would reset the connection, and the client
 * would lose the answer (a lingering close, as web servers do).
 */
function lingerThenClose(req: Request): void {
  req.resume();
  const timer = setTimeout(() => req.socket?.destroy(), LINGER_MS);
  timer.unref();
  req.socket?.once('close', () => clearTimeout(timer));
}

/** Reads the body, or fails with 408 (and closes the connection) when it does not arrive in time. */
function readWithin(ms: number, req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      res.setHeader('Connection', 'close');
      reject(new ApiError(408, ErrorCode.REQUEST_TIMEOUT, `The request body did not arrive within ${ms / 1000} s`));
    }, ms);
    parseJson(req, res, (error?: unknown) => {
      clearTimeout(timer);
      if (error) reject(error);
      else resolve();
    });
  });
}

/** The charset parameter of a Content-Type, lowercased, or undefined. */
function charsetOf(contentType: string | undefined): string | undefined {
  const m = contentType ? /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType) : null;
  return m ? m[1].toLowerCase() : undefined;
}

/** A lone UTF-16 surrogate: in `u` mode a well-formed pair is one code point and does not match. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * The JSON pointer of the first string (value or member name) holding a lone surrogate (JSON
 * allows `"\ud800"`, but it is no text: PostgreSQL would keep U+FFFD instead), else null.
 * Iterative, so hostile depth cannot overflow the stack.
 */
export function loneSurrogatePointer(value: unknown): string | null {
  const stack: Array<[unknown, string]> = [[value, '']];
  while (stack.length) {
    const [v, pointer] = stack.pop()!;
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return pointer;
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push([v[i], `${pointer}/${i}`]);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) {
        if (LONE_SURROGATE.test(k)) return `${pointer}/${escapePointer(k)}`;
        stack.push([item, `${pointer}/${escapePointer(k)}`]);
      }
    }
  }
  return null;
}
