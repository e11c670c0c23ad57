import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiError, ErrorCode, ErrorObject, STATUS_TITLES } from './errors';
import { requestIdOf } from './request-id';

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
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
    return new ApiError(415, ErrorCode.MEDIA_TYPE_UNSUPPORTED, 'Unsupported content encoding or charset', { header: 'Content-Type' });
  }
  return null;
}

function isDatabaseDown(error: unknown): boolean {
  const e = error as { code?: string; name?: string; message?: string; driverError?: { code?: string } };
  if (['CannotExecuteNotConnectedError', 'ConnectionIsNotSetError', 'ConnectionNotFoundError'].includes(e?.name ?? '')) return true;
  const code = e?.driverError?.code ?? e?.code;
  if (code && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P03', '08006', '08001', '08003'].includes(code)) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Cannot use a pool after calling end|not established|Driver not Connected/i.test(e?.message ?? '');
}

/** Renders every error as a JSON:API error document; anything unexpected is a logged 500. */
@Catch()
export class JsonApiErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

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
    for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
    res.setHeader('X-Request-Id', requestId);
    res.status(error.status);
    if ((req as Request & { plainErrors?: boolean }).plainErrors) {
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
      if (status === 404) return new ApiError(404, ErrorCode.NOT_FOUND, `No route matches ${req.method} ${req.path}`);
      if (status < 500) {
        const e: ErrorObject = { status: String(status), code: exception.name.replace(/Exception$/, '').replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase(), title: STATUS_TITLES[status] ?? 'Error', detail: exception.message };
        return ApiError.many(status, [e]);
      }
    }
    if (isDatabaseDown(exception)) {
      this.logger.warn(`[${requestId}] database unavailable: ${(exception as Error)?.message}`);
      return new ApiError(503, ErrorCode.DATABASE_UNAVAILABLE, 'The database is unavailable, try again later', undefined, { 'Retry-After': '5' });
    }
    this.logger.error(`[${requestId}] ${req.method} ${req.path} failed: ${(exception as Error)?.stack ?? String(exception)}`);
    return new ApiError(500, ErrorCode.INTERNAL_ERROR, 'An unexpected error occurred');
  }
}
