import { IsBoolean, IsIn, IsNotEmpty, IsOptional, IsString, IsUrl, MaxLength, ValidateBy, ValidateIf } from 'class-validator';
import { parse as parseSemver } from 'semver';
import { IsMetadata } from '../jsonapi/metadata';
import { DISTRIBUTION_STRATEGIES } from '../access/strategies';
import type { DistributionStrategy } from '../access/strategies';

export class CreateProductDto {
  @IsString({ message: 'must be a string' })
  @IsNotEmpty({ message: 'must not be blank' })
  @MaxLength(255, { message: 'must be at most 255 characters long' })
  name: string;

  @IsOptional()
  @IsString({ message: 'must be a string' })
  @IsNotEmpty({ message: 'must not be blank' })
  @MaxLength(255, { message: 'must be at most 255 characters long' })
  code?: string | null;

  @IsOptional()
  @IsIn(DISTRIBUTION_STRATEGIES, { message: `must be one of ${DISTRIBUTION_STRATEGIES.join(', ')}` })
  distributionStrategy?: DistributionStrategy;

  @IsOptional()
  @IsString({ message: 'must be a string' })
  @MaxLength(2048, { message: 'must be at most 2048 characters long' })
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false }, { message: 'must be an http(s) URL' })
  url?: string | null;

  /** A strict semver version (null: none). */
  @IsOptional()
  @ValidateBy({ name: 'isStrictSemver', validator: { validate: isStrictVersion, defaultMessage: () => 'must be a valid semver version (e.g. 2.0.0) or null' } })
  minimumVersion?: string | null;

  // null is not "absent": it always has a value
  @ValidateIf((o: CreateProductDto) => o.rollbackOnYank !== undefined)
  @IsBoolean({ message: 'must be true or false' })
  rollbackOnYank?: boolean;

  @IsOptional()
  @IsMetadata()
  metadata?: Record<string, unknown>;
}

/** A semver 2.0 version exactly as written (no leading v, no spaces). */
function isStrictVersion(value: unknown): boolean {
  if (typeof value !== 'string' || value.length > 255) return false;
  const parsed = parseSemver(value);
  return parsed !== null && parsed.raw === value;
}

export class UpdateProductDto extends CreateProductDto {}

export const PRODUCT_ATTRIBUTES = ['name', 'code', 'distributionStrategy', 'url', 'minimumVersion', 'rollbackOnYank', 'metadata'] as const;
/** Attributes that may not be set to null by a PATCH (their columns are NOT NULL). */
export const PRODUCT_REQUIRED = ['name', 'distributionStrategy', 'rollbackOnYank', 'metadata'] as const;
