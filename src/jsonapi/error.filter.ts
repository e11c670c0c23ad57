import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { DatabaseOutageLog } from '../database/outage-log';
import { methodNotAllowed } from './allowed-methods';
import { ApiError, ErrorCode, ErrorObject, STATUS_TITLES } from './errors';
import { fullPath } from './media-type';
import { noteErrorCode, requestIdOf } from './request-id';

/** Codes for errors raised by the HTTP layer itself (body parser, router) rather than by our code. */
function fromHttpLayer(error: unknown): ApiError | null {
  const e = error as { type?: string; status?: number; statusCode?: number; code?: string };
  if (e?.type === 'entity.parse.failed') {
    return new ApiError(400, ErrorCode.JSON_INVALID, 'The request body is not valid JSON');
  }
  if (e?.type === 'entity.too.large') {
    return new ApiError(413, ErrorCode.REQUEST_TOO_LARGE, 'The request body exceeds the size limit');
  }
  if (e?.type === 'request.aborted') {
    return new ApiError(400, 'REQUEST_ABORTED', 'The request was aborted by the client');
  }
  const pgCode = (error as { driverError?: { code?: string }; code?: string })?.driverError?.code ?? e?.code;
  if (pgCode === '22021' || pgCode === '22P05') {
    // a character PostgreSQL cannot store (NUL) that slipped past the edge checks
    return new ApiError(400, ErrorCode.PARAMETER_INVALID, 'The request contains characters that cannot be stored');
  }
  if (e?.type === 'encoding.unsupported') {
    return new ApiError(415, ErrorCode.MEDIA_TYPE_UNSUPPORTED, 'The Content-Encoding is not supported (gzip, deflate, br or identity)', { header: 'Content-Encoding' });
  }
  if (e?.type === 'charset.unsupported') {
    return new ApiError(415, ErrorCode.MEDIA_TYPE_UNSUPPORTED, 'The request body must be UTF-8', { header: 'Content-Type' });
  }
  if (isZlibError(error)) {
    // a gzip/deflate/br body that does not decompress
    return new ApiError(400, ErrorCode.BODY_ENCODING_INVALID, 'The request body does not match its Content-Encoding', { header: 'Content-Encoding' });
  }
  const status = e?.status ?? e?.statusCode;
  if ((error as { expose?: boolean })?.expose === true && typeof status === 'number' && status >= 400 && status < 500) {
    // any other client error the body parser (http-errors) reports
    return new ApiError(status, ErrorCode.REQUEST_INVALID, 'The request body could not be read');
  }
  return null;
}

function isZlibError(error: unknown): boolean {
  const e = error as { code?: string; errno?: number };
  return typeof e?.code === 'string' && (/^Z_/.test(e.code) || /^ERR_(BROTLI|ZLIB)/.test(e.code) || e.code === 'ERR__ERROR_FORMAT_PADDING_1');
}

function isStatementTimeout(error: unknown): boolean {
  const e = error as { code?: string; message?: string; driverError?: { code?: string } };
  // 57014: canceled by statement_timeout; "Query read timeout": the client gave up on a database that does not answer
  return (e?.driverError?.code ?? e?.code) === '57014' || /Query read timeout/.test(e?.message ?? '');
}

function isDatabaseDown(error: unknown): boolean {
  const e = error as { code?: string; name?: string; message?: string; driverError?: { code?: string } };
  if (['CannotExecuteNotConnectedError', 'ConnectionIsNotSetError', 'ConnectionNotFoundError'].includes(e?.name ?? '')) return true;
  const code = e?.driverError?.code ?? e?.code;
  if (code && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P03', '08006', '08001', '08003'].includes(code)) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Cannot use a pool after calling end|not established|Driver not Connected|Connection ended|Query read timeout/i.test(
    e?.message ?? '',
  );
}

/** Renders every error as a JSON:API error document; anything unexpected is a logged 500. */
@Catch()
export class JsonApiErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  constructor(private readonly outage?: DatabaseOutageLog) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    this.respond(exception, ctx.getRequest<Request>(), ctx.getResponse<Response>());
  }

  /** Answers `exception` as an error document (also used by the JSON:API edge, before Nest's pipeline). */
  respond(exception: unknown, req: Request, res: Response): void {
    const requestId = requestIdOf(req);
    const error = this.toApiError(exception, req, requestId);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (error.status === 405 && req.method === 'OPTIONS') {
      // OPTIONS on a known path: which methods it serves (preflights are answered by the JSON:API edge)
      res.setHeader('Allow', error.headers.Allow);
      res.status(204).end();
      return;
    }
    for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
    res.setHeader('X-Request-Id', requestId);
    noteErrorCode(req, error.errors[0].code);
    res.status(error.status);
    if (fullPath(req).startsWith('/v3/')) {
      // Cryptlex-compatible routes answer errors as {code, message}.
      const first = error.errors[0];
      res.type('application/json').send(JSON.stringify({ code: first.code, message: first.detail ?? first.title }));
      return;
    }
    res.type('application/vnd.api+json').send(JSON.stringify({ errors: error.errors, meta: { id: requestId } }));
  }

  private toApiError(exception: unknown, req: Request, requestId: string): ApiError {
    if (exception instanceof ApiError) return exception;
    const layer = fromHttpLayer(exception);
    if (layer) return layer;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 404) {
        return methodNotAllowed(req) ?? new ApiError(404, ErrorCode.NOT_FOUND, `No route matches ${req.method} ${fullPath(req)}`);
      }
      if (status < 500) {
        const e: ErrorObject = { status: String(status), code: exception.name.replace(/Exception$/, '').replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase(), title: STATUS_TITLES[status] ?? 'Error', detail: exception.message };
        return ApiError.many(status, [e]);
      }
    }
    if (isStatementTimeout(exception)) {
      return new ApiError(503, ErrorCode.DATABASE_UNAVAILABLE, 'The database did not answer in time, try again later', undefined, { 'Retry-After': '5' });
    }
    if (isDatabaseDown(exception)) {
      // one log line when an outage starts and one when it ends, not one per failed request
      if (this.outage) this.outage.failed(exception);
      else this.logger.warn(`[${requestId}] database unavailable: ${(exception as Error)?.message}`);
      return new ApiError(503, ErrorCode.DATABASE_UNAVAILABLE, 'The database is unavailable, try again later', undefined, { 'Retry-After': '5' });
    }
    this.logger.error(`[${requestId}] ${req.method} ${fullPath(req)} failed: ${(exception as Error)?.stack ?? String(exception)}`);
    return new ApiError(500, ErrorCode.INTERNAL_ERROR, 'An unexpected error occurred');
  }
}
