import { randomUUID } from 'node:crypto';
import { parse as parseQueryString } from 'node:querystring';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { ApiError, ErrorCode } from './errors';
import { acceptsJsonApi, acceptableContentType, hasBody, isRawBodyRoute, isSignedDownloadRoute, JSONAPI_MEDIA_TYPE, responseMediaType } from './media-type';

export const BODY_LIMIT_BYTES = 1024 * 1024;

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
  /** The Cryptlex-compatible routes (`/v3`) answer errors as `{code, message}`. */
  plainErrors?: boolean;
}

/** Renders an error the way the global filter does (the edge runs before Nest's pipeline). */
export type ErrorResponder = (error: unknown, req: Request, res: Response) => void;

/**
 * The JSON:API edge, one plain express middleware in front of every route (not Nest middleware:
 * an update check pays for one function call, no router layer per concern and no promise):
 * - a request id, echoed as X-Request-Id;
 * - NUL in the path or query is 400 (PostgreSQL text cannot hold it);
 * - `/v1` media types: 406 for an Accept that rules JSON:API out, 415 for a body in another type;
 * - the JSON body (400 malformed, 413 over 1 MiB), parsed only when there is one; artifact
 *   uploads stream raw.
 * Its errors are rendered by `respond` (the global filter's renderer).
 */
export function jsonApiEdge(respond: ErrorResponder) {
  return function edge(req: Request, res: Response, next: NextFunction): void {
    const r = req as EdgeRequest;
    const incoming = req.headers['x-request-id'];
    r.id = typeof incoming === 'string' && VALID_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', r.id);
    const url = req.url;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    // express 5 parses the query string again on every read of req.query (the guard, the route's
    // locator and the handler each read it): parse it once ('simple' parser, as the app is set)
    Object.defineProperty(req, 'query', { value: q < 0 ? {} : parseQueryString(url.slice(q + 1)), writable: true, enumerable: true, configurable: true });
    if (path.startsWith('/v3/')) r.plainErrors = true;
    if (url.includes('%00')) {
      return respond(new ApiError(400, ErrorCode.PARAMETER_INVALID, 'The URL must not contain NUL characters'), req, res);
    }
    const body = hasBody(req) && !isRawBodyRoute(req);
    if (path.startsWith('/v1/') && !isSignedDownloadRoute(req)) {
      if (!acceptsJsonApi(req.headers.accept)) {
        const e = new ApiError(406, ErrorCode.MEDIA_TYPE_UNACCEPTABLE, `The Accept header must allow ${JSONAPI_MEDIA_TYPE}`, { header: 'Accept' });
        return respond(e, req, res);
      }
      if (body && !acceptableContentType(req.headers['content-type'])) {
        const e = new ApiError(415, ErrorCode.MEDIA_TYPE_UNSUPPORTED, `The request body must be ${JSONAPI_MEDIA_TYPE} without parameters other than ext or profile`, {
          header: 'Content-Type',
        });
        return respond(e, req, res);
      }
      // handlers answer with objects; express keeps a Content-Type that is already set
      res.setHeader('Content-Type', responseMediaType(req.headers.accept));
    }
    // most requests (every update check) have no body: nothing to parse
    if (!body) return next();
    parseJson(req, res, (error?: unknown) => (error ? respond(error, req, res) : next()));
  };
}
