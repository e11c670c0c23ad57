import { IsIn, IsNotEmpty, IsOptional, IsString, Matches, MaxLength, ValidateIf } from 'class-validator';
import type { Metadata } from '../database/columns';
import { IsMetadata } from '../jsonapi/metadata';
import { PACKAGE_ENGINES } from './package.entity';
import type { PackageEngine } from './package.entity';

/**
 * A package key: what pip and npm ask for. An optional npm scope (`@acme/`), then letters, digits,
 * `.`, `_`, `-`, starting with a letter or digit (PEP 508 names and npm names both fit).
 */
export const PACKAGE_KEY = /^(@[a-z0-9][a-z0-9._-]*\/)?[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;

export class CreatePackageDto {
  @IsString({ message: 'must be a string' })
  @IsNotEmpty({ message: 'must not be blank' })
  @MaxLength(255, { message: 'must be at most 255 characters long' })
  name: string;

  @IsString({ message: 'must be a string' })
  @MaxLength(214, { message: 'must be at most 214 characters long' })
  @Matches(PACKAGE_KEY, { message: 'must be a package name such as acme-sdk or @acme/cli' })
  key: string;

  @IsOptional()
  @IsIn(PACKAGE_ENGINES, { message: `must be one of ${PACKAGE_ENGINES.join(', ')}, or null` })
  engine?: PackageEngine | null;

  @ValidateIf((o: CreatePackageDto) => o.metadata !== undefined)
  @IsMetadata()
  metadata?: Metadata;

  /** From `relationships.product` (an id or a code). */
  @IsString({ message: 'is required' })
  productId: string;
}

export class UpdatePackageDto {
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @IsNotEmpty({ message: 'must not be blank' })
  @MaxLength(255, { message: 'must be at most 255 characters long' })
  name?: string;

  @IsOptional()
  @IsString({ message: 'must be a string' })
  @MaxLength(214, { message: 'must be at most 214 characters long' })
  @Matches(PACKAGE_KEY, { message: 'must be a package name such as acme-sdk or @acme/cli' })
  key?: string;

  @IsOptional()
  @IsIn(PACKAGE_ENGINES, { message: `must be one of ${PACKAGE_ENGINES.join(', ')}, or null` })
  engine?: PackageEngine | null;

  @ValidateIf((o: UpdatePackageDto) => o.metadata !== undefined)
  @IsMetadata()
  metadata?: Metadata;
}

export const PACKAGE_ATTRIBUTES = ['name', 'key', 'engine', 'metadata'] as const;
