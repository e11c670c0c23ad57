import { IsIn, IsNotEmpty, IsOptional, IsString, IsUrl, MaxLength } from 'class-validator';
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

  @IsOptional()
  @IsMetadata()
  metadata?: Record<string, unknown>;
}

export class UpdateProductDto extends CreateProductDto {}

export const PRODUCT_ATTRIBUTES = ['name', 'code', 'distributionStrategy', 'url', 'metadata'] as const;
/** Attributes that may not be set to null by a PATCH (their columns are NOT NULL). */
export const PRODUCT_REQUIRED = ['name', 'distributionStrategy', 'metadata'] as const;
