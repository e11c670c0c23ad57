import { HttpStatus } from '@nestjs/common';

export interface ErrorSource {
  pointer?: string;
  parameter?: string;
  header?: string;
}

export interface ErrorObject {
  status: string;
  code: string;
  title: string;
  detail?: string;
  source?: ErrorSource;
}

/** Codes shared across modules; attribute codes (`<ATTRIBUTE>_INVALID` etc.) are built by attributeCode. */
export enum ErrorCode {
  NOT_FOUND = 'NOT_FOUND',
  JSON_INVALID = 'JSON_INVALID',
  DOCUMENT_INVALID = 'DOCUMENT_INVALID',
  TYPE_MISMATCH = 'TYPE_MISMATCH',
  PARAMETER_UNPERMITTED = 'PARAMETER_UNPERMITTED',
  PARAMETER_INVALID = 'PARAMETER_INVALID',
  HEADER_INVALID = 'HEADER_INVALID',
  TOKEN_MISSING = 'TOKEN_MISSING',
  TOKEN_INVALID = 'TOKEN_INVALID',
  LICENSE_INVALID = 'LICENSE_INVALID',
  LICENSE_SUSPENDED = 'LICENSE_SUSPENDED',
  LICENSE_EXPIRED = 'LICENSE_EXPIRED',
  FORBIDDEN = 'FORBIDDEN',
  ACCOUNT_CREATION_DISABLED = 'ACCOUNT_CREATION_DISABLED',
  CONFLICT = 'CONFLICT',
  REQUEST_TOO_LARGE = 'REQUEST_TOO_LARGE',
  MEDIA_TYPE_UNSUPPORTED = 'MEDIA_TYPE_UNSUPPORTED',
  MEDIA_TYPE_UNACCEPTABLE = 'MEDIA_TYPE_UNACCEPTABLE',
  METHOD_NOT_ALLOWED = 'METHOD_NOT_ALLOWED',
  RATE_LIMITED = 'RATE_LIMITED',
  REQUEST_TIMEOUT = 'REQUEST_TIMEOUT',
  REQUEST_INVALID = 'REQUEST_INVALID',
  BODY_ENCODING_INVALID = 'BODY_ENCODING_INVALID',
  CHARACTER_INVALID = 'CHARACTER_INVALID',
  DATABASE_UNAVAILABLE = 'DATABASE_UNAVAILABLE',
  STORAGE_UNAVAILABLE = 'STORAGE_UNAVAILABLE',
  PASSWORD_HASHING_BUSY = 'PASSWORD_HASHING_BUSY',
  INTERNAL_ERROR = 'INTERNAL_ERROR',
  PRODUCT_HAS_RELEASES = 'PRODUCT_HAS_RELEASES',
  ARTIFACT_NOT_UPLOADED = 'ARTIFACT_NOT_UPLOADED',
  CHECKSUM_MISMATCH = 'CHECKSUM_MISMATCH',
  FILESIZE_MISMATCH = 'FILESIZE_MISMATCH',
  VERSION_CHANNEL_INVALID = 'VERSION_CHANNEL_INVALID',
  ENTITLEMENT_TAKEN = 'ENTITLEMENT_TAKEN',
}

export const STATUS_TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Access denied',
  404: 'Not found',
  405: 'Method not allowed',
  406: 'Not acceptable',
  408: 'Request timeout',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  416: 'Range not satisfiable',
  422: 'Unprocessable resource',
  429: 'Too many requests',
  500: 'Internal server error',
  503: 'Service unavailable',
};

/** `firstName` + `INVALID` -> `FIRST_NAME_INVALID`. */
export function attributeCode(attribute: string, suffix: 'INVALID' | 'MISSING' | 'TAKEN' | 'NOT_FOUND'): string {
  return `${attribute.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}_${suffix}`;
}

/** The one exception type services throw; the filter renders it as a JSON:API error document. */
export class ApiError extends Error {
  readonly errors: ErrorObject[];
  readonly headers: Record<string, string>;

  constructor(
    readonly status: number,
    code: string,
    detail?: string,
    source?: ErrorSource,
    headers: Record<string, string> = {},
  ) {
    super(detail ?? code);
    this.errors = [{ status: String(status), code, title: STATUS_TITLES[status] ?? 'Error', detail, source }];
    this.headers = headers;
  }

  /** Several errors in one response (e.g. validation of many attributes). */
  static many(status: number, errors: Array<Omit<ErrorObject, 'status' | 'title'>>): ApiError {
    const error = new ApiError(status, errors[0]?.code ?? 'ERROR');
    error.errors.splice(0, 1, ...errors.map((e) => ({ status: String(status), title: STATUS_TITLES[status] ?? 'Error', ...e })));
    return error;
  }

  static notFound(detail = 'The requested resource was not found'): ApiError {
    return new ApiError(HttpStatus.NOT_FOUND, ErrorCode.NOT_FOUND, detail);
  }

  static forbidden(detail = 'You do not have permission to perform this action'): ApiError {
    return new ApiError(HttpStatus.FORBIDDEN, ErrorCode.FORBIDDEN, detail);
  }

  static tokenMissing(): ApiError {
    return new ApiError(HttpStatus.UNAUTHORIZED, ErrorCode.TOKEN_MISSING, 'An authentication token or license key is required', {
      header: 'Authorization',
    });
  }

  static invalidParameter(parameter: string, detail: string): ApiError {
    return new ApiError(HttpStatus.BAD_REQUEST, ErrorCode.PARAMETER_INVALID, detail, { parameter });
  }

  static unpermitted(pointer: string, detail = 'is not permitted'): ApiError {
    return new ApiError(HttpStatus.BAD_REQUEST, ErrorCode.PARAMETER_UNPERMITTED, detail, { pointer });
  }

  /** 422 for one attribute: `attributeCode(attribute, suffix)` with a pointer to it. */
  static attribute(attribute: string, suffix: 'INVALID' | 'MISSING' | 'TAKEN' | 'NOT_FOUND', detail: string, code?: string): ApiError {
    return new ApiError(HttpStatus.UNPROCESSABLE_ENTITY, code ?? attributeCode(attribute, suffix), detail, {
      pointer: `/data/attributes/${attribute}`,
    });
  }

  /** 422 for one relationship (`/data/relationships/<name>`). */
  static relationship(name: string, suffix: 'INVALID' | 'MISSING' | 'NOT_FOUND' | 'TAKEN', detail: string): ApiError {
    return new ApiError(HttpStatus.UNPROCESSABLE_ENTITY, attributeCode(name, suffix), detail, {
      pointer: `/data/relationships/${name}`,
    });
  }
}

/** The constraint a PostgreSQL error of `sqlstate` names ('' when it names none), or null for any other error. */
function violation(error: unknown, sqlstate: string): string | null {
  const e = error as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = e?.driverError?.code ?? e?.code;
  if (code !== sqlstate) return null;
  return e?.driverError?.constraint ?? e?.constraint ?? '';
}

/** PostgreSQL's unique_violation, with the constraint that fired (for mapping to `<ATTR>_TAKEN`). */
export function uniqueViolation(error: unknown): string | null {
  return violation(error, '23505');
}

/** PostgreSQL's foreign_key_violation, with the constraint that fired. */
export function foreignKeyViolation(error: unknown): string | null {
  return violation(error, '23503');
}
