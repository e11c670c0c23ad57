import { Injectable, NestMiddleware } from '@nestjs/common';
import express, { NextFunction, Request, Response } from 'express';
import { ApiError, ErrorCode } from './errors';
import { fullPath, hasBody, isRawBodyRoute, isSignedDownloadRoute, mediaTypeMiddleware, responseMediaType } from './media-type';

export const BODY_LIMIT_BYTES = 1024 * 1024;

const parseJson = express.json({
  type: ['application/vnd.api+json', 'application/json'],
  limit: BODY_LIMIT_BYTES,
  strict: false,
});

function run(middleware: (req: Request, res: Response, next: NextFunction) => void, req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) => middleware(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
}

/**
 * The JSON:API edge for every request: media types (415/406) and the JSON body (400 malformed, 413 over 1 MiB).
 * Runs as Nest middleware so that its errors reach the global error filter.
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
    if (hasBody(req) && !isRawBodyRoute(req)) await run(parseJson, req, res);
    next();
  }
}
