import { IsArray, IsDefined, IsIn, IsOptional, IsString, Matches, MaxLength, ValidateBy } from 'class-validator';
import { validRange } from 'semver';
import { IsTimestamp } from '../jsonapi/timestamp';
import { ApiError } from '../jsonapi/errors';
import { documentError, resourceArray } from '../jsonapi/document';
import { isUuid } from '../jsonapi/ids';
import { IsMetadata } from '../jsonapi/metadata';
import { GIVEN_LICENSE_KEY } from './license-key';
import { EXPIRATION_STRATEGIES } from '../access/strategies';
import type { ExpirationStrategy } from '../access/strategies';

export class UpdateLicenseDto {
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @Matches(GIVEN_LICENSE_KEY, { message: 'must be 8 to 255 visible ASCII characters (no spaces)' })
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

  /** A semver range such as `~2.4` or `<3` (null: no pin). */
  @IsOptional()
  @ValidateBy({ name: 'isSemverRange', validator: { validate: isVersionRange, defaultMessage: () => 'must be a semver range such as ~2.4, ^2 or <3 (or null)' } })
  versionPin?: string | null;

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

export const LICENSE_ATTRIBUTES = ['key', 'name', 'expiry', 'expirationStrategy', 'versionPin', 'metadata'] as const;

/** A non-blank semver range of at most 255 characters (as node-semver reads ranges, strictly). */
export function isVersionRange(value: unknown): boolean {
  return typeof value === 'string' && value.trim() !== '' && value.length <= 255 && validRange(value) !== null;
}
export const LICENSE_CREATE_RELATIONSHIPS = {
  product: { type: 'products', byCode: true },
  user: { type: 'users' },
  entitlements: { type: 'entitlements', many: true },
};
/** product is immutable and entitlements have their own endpoint: a PATCH naming them is 400 PARAMETER_UNPERMITTED. */
export const LICENSE_UPDATE_RELATIONSHIPS = { user: { type: 'users' } };


/**
 * `{data: [{type: 'entitlements', id}, ...]}` (attach/detach) -> the ids. A malformed document is
 * 400, a wrong type 409, an id that cannot name an entitlement 422 ENTITLEMENT_NOT_FOUND.
 */
export function parseEntitlementLinkage(body: unknown): string[] {
  return resourceArray(body, 'entitlements').map((item, i) => {
    if (typeof item.id !== 'string') throw documentError('id is required', `/data/${i}/id`);
    if (!isUuid(item.id)) throw entitlementNotFound(i, item.id);
    return item.id.toLowerCase();
  });
}

export function entitlementNotFound(index: number, id: string): ApiError {
  return new ApiError(422, 'ENTITLEMENT_NOT_FOUND', `entitlement ${id} was not found`, { pointer: `/data/${index}/id` });
}
