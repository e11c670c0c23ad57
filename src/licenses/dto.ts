import { IsArray, IsDefined, IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { IsTimestamp } from '../jsonapi/timestamp';
import { ApiError, ErrorCode } from '../jsonapi/errors';
import { isUuid } from '../jsonapi/ids';
import { IsMetadata } from '../jsonapi/metadata';
import { GIVEN_LICENSE_KEY } from './license-key';
import { EXPIRATION_STRATEGIES } from './license.entity';
import type { ExpirationStrategy } from './license.entity';

export class UpdateLicenseDto {
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @Matches(GIVEN_LICENSE_KEY, { message: 'must be 1 to 255 visible ASCII characters (no spaces)' })
  key?: string | null;

  @IsOptional()
  @IsString({ message: 'must be a string' })
  @MaxLength(255, { message: 'must be at most 255 characters long' })
  name?: string | null;

  @IsOptional()
  @IsTimestamp({ message: 'must be an ISO 8601 timestamp or null' })
  expiry?: string | null;

  @IsOptional()
  @IsIn(EXPIRATION_STRATEGIES, { message: `must be one of ${EXPIRATION_STRATEGIES.join(', ')}` })
  expirationStrategy?: ExpirationStrategy;

  @IsOptional()
  @IsMetadata()
  metadata?: Record<string, unknown>;

  /** relationships.user (the owner); null removes the owner. */
  @IsOptional()
  userId?: string | null;
}

export class CreateLicenseDto extends UpdateLicenseDto {
  /** relationships.product: required, immutable afterwards. */
  @IsDefined({ message: 'is required' })
  productId: string;

  /** relationships.entitlements: attached on create. */
  @IsOptional()
  @IsArray()
  entitlementIds?: string[];
}

export const LICENSE_ATTRIBUTES = ['key', 'name', 'expiry', 'expirationStrategy', 'metadata'] as const;
export const LICENSE_CREATE_RELATIONSHIPS = {
  product: { type: 'products' },
  user: { type: 'users' },
  entitlements: { type: 'entitlements', many: true },
};
/** product is immutable and entitlements have their own endpoint: a PATCH naming them is 400 PARAMETER_UNPERMITTED. */
export const LICENSE_UPDATE_RELATIONSHIPS = { user: { type: 'users' } };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * `{data: [{type: 'entitlements', id}, ...]}` (attach/detach) -> the ids. A malformed document is
 * 400, a wrong type 409, an id that cannot name an entitlement 422 ENTITLEMENT_NOT_FOUND.
 */
export function parseEntitlementLinkage(body: unknown): string[] {
  if (!isPlainObject(body) || !Array.isArray(body.data)) {
    throw new ApiError(400, ErrorCode.DOCUMENT_INVALID, 'the body must be {data: [{type: "entitlements", id}]}', { pointer: '/data' });
  }
  if (body.data.length === 0) throw new ApiError(400, ErrorCode.DOCUMENT_INVALID, 'data must list at least one entitlement', { pointer: '/data' });
  if (body.data.length > 100) throw new ApiError(400, ErrorCode.DOCUMENT_INVALID, 'data may list at most 100 entitlements', { pointer: '/data' });
  return body.data.map((item, i) => {
    if (!isPlainObject(item) || typeof item.type !== 'string' || typeof item.id !== 'string') {
      throw new ApiError(400, ErrorCode.DOCUMENT_INVALID, 'each item must be {type, id}', { pointer: `/data/${i}` });
    }
    if (item.type !== 'entitlements') throw new ApiError(409, ErrorCode.TYPE_MISMATCH, 'must be entitlements', { pointer: `/data/${i}/type` });
    if (!isUuid(item.id)) throw entitlementNotFound(i, item.id);
    return item.id.toLowerCase();
  });
}

export function entitlementNotFound(index: number, id: string): ApiError {
  return new ApiError(422, 'ENTITLEMENT_NOT_FOUND', `entitlement ${id} was not found`, { pointer: `/data/${index}/id` });
}
