import { ApiError } from '../jsonapi/errors';
import { isUuid } from '../jsonapi/ids';
import { enumParam, queryParam } from '../jsonapi/query';
import type { Query } from '../jsonapi/query';
import { isTimestamp } from '../jsonapi/timestamp';
import { assertProductRef } from '../products/product-ref';
import type { LicenseStatus } from './license.entity';

export const LICENSE_STATUSES: readonly LicenseStatus[] = ['ACTIVE', 'EXPIRED', 'SUSPENDED'];

/** Filters of GET /licenses, validated (400 PARAMETER_INVALID naming the parameter). */
export interface LicenseFilters {
  /** A product id or code (resolved by the service). */
  product?: string;
  userId?: string;
  status?: LicenseStatus;
  expiresBefore?: Date;
  expiresAfter?: Date;
}

function timestampParam(query: Query, name: string): Date | undefined {
  const raw = queryParam(query, name);
  if (raw === undefined) return undefined;
  if (!isTimestamp(raw)) throw ApiError.invalidParameter(name, 'must be an ISO 8601 timestamp');
  return new Date(raw);
}

export function parseLicenseFilters(query: Query): LicenseFilters {
  const product = queryParam(query, 'product');
  if (product !== undefined) assertProductRef(product);
  const user = queryParam(query, 'user');
  if (user !== undefined && !isUuid(user)) throw ApiError.invalidParameter('user', 'must be a user id');
  return {
    product,
    userId: user?.toLowerCase(),
    status: enumParam(query, 'status', LICENSE_STATUSES),
    expiresBefore: timestampParam(query, 'expires[before]'),
    expiresAfter: timestampParam(query, 'expires[after]'),
  };
}
