import { Injectable, NestMiddleware } from '@nestjs/common';
import express, { NextFunction, Request, Response } from 'express';
import { ApiError, ErrorCode } from './errors';
import { fullPath, hasBody, isRawBodyRoute, isSignedDownloadRoute, mediaTypeMiddleware, responseMediaType } from './media-type';

export const BODY_LIMIT_BYTES = 1024 * 1024;
/** API §10: a JSON body must arrive whole within 30 s (uploads have their own idle timeout). */
export const BODY_TIMEOUT_MS = 30_000;

const parseJson = express.json({
  type: ['application/vnd.api+json', 'application/json'],
  limit: BODY_LIMIT_BYTES,
  strict: false,
});

function run(middleware: (req: Request, res: Response, next: NextFunction) => void, req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) => middleware(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
}

/** Reads the body, or fails with 408 (and closes the connection) when it does not arrive in time. */
function readWithin(ms: number, req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      res.setHeader('Connection', 'close');
      reject(new ApiError(408, ErrorCode.REQUEST_TIMEOUT, `The request body did not arrive within ${ms / 1000} s`));
    }, ms);
    run(parseJson, req, res).then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

/** The charset parameter of a Content-Type, lowercased, or undefined. */
function charsetOf(contentType: string | undefined): string | undefined {
  const m = contentType ? /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType) : null;
  return m ? m[1].toLowerCase() : undefined;
}

/** A lone UTF-16 surrogate: in `u` mode a well-formed pair is one code point and does not match. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

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

/**
 * The JSON:API edge for every request: media types (415/406) and the JSON body (400 malformed,
 * 413 over 1 MiB, 408 when slower than 30 s, 415 for a charset other than UTF-8, 400 for a lone
 * surrogate or a body that does not decompress). Runs as Nest middleware so that its errors reach
 * the global error filter.
 */
@Injectable()
export class JsonApiRequestMiddleware implements NestMiddleware {
  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    // PostgreSQL text cannot hold NUL: refuse it in the path or query before it reaches a query
    if (/%00/.test(req.originalUrl ?? req.url)) {
      throw new ApiError(400, ErrorCode.PARAMETER_INVALID, 'The URL must not contain NUL characters');
    }
    if (fullPath(req).startsWith('/v1/') && !isSignedDownloadRoute(req)) {
      await run(mediaTypeMiddleware, req, res);
      // handlers answer with objects; express keeps a Content-Type that is already set
      res.setHeader('Content-Type', responseMediaType(req.headers.accept));
    }
    // most requests (every update check) have no body: nothing to parse
    if (hasBody(req) && !isRawBodyRoute(req)) {
      const charset = charsetOf(req.headers['content-type']);
      if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
        throw new ApiError(415, ErrorCode.MEDIA_TYPE_UNSUPPORTED, 'The request body must be UTF-8', { header: 'Content-Type' });
      }
      await readWithin(BODY_TIMEOUT_MS, req, res);
      const pointer = loneSurrogatePointer(req.body);
      if (pointer !== null) {
        throw new ApiError(400, ErrorCode.CHARACTER_INVALID, 'A string holds a lone UTF-16 surrogate (not a character)', { pointer });
      }
    }
    next();
  }
}
