import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength, ValidateNested } from 'class-validator';
import { CreateUserDto } from '../users/dto';
import { API_VERSIONS } from '../jsonapi/api-version';

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const UUID_SHAPED = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class UpdateAccountDto {
  @IsString() @MinLength(1) @MaxLength(255) name: string;

  @IsString()
  @MinLength(1)
  @MaxLength(255)
  @Matches(SLUG, { message: 'must contain only lowercase letters, digits and single dashes' })
  @Matches(new RegExp(`^(?!${UUID_SHAPED.source.slice(1, -1)}$)`), { message: 'must not look like a UUID' })
  slug: string;

  /** The API version of requests that send no Keygen-Version header. */
  @IsOptional()
  @IsIn(API_VERSIONS, { message: `must be one of ${API_VERSIONS.join(', ')}` })
  apiVersion?: string;
}

/** The first admin rides along as `relationships.admins.data[0].attributes`. */
export class CreateAccountDto extends UpdateAccountDto {
  @IsArray({ message: 'must list the first admin' })
  @ArrayMinSize(1, { message: 'must list the first admin' })
  @ArrayMaxSize(1, { message: 'must list exactly one admin' })
  @ValidateNested({ each: true })
  @Type(() => AdminDto)
  admins: AdminDto[];
}

export class AdminDto extends CreateUserDto {
  @IsString({ message: 'is required' })
  @MinLength(8, { message: 'must be at least 8 characters long' })
  @MaxLength(72, { message: 'must be at most 72 characters long' })
  declare password: string;
}

export const ACCOUNT_ATTRIBUTES = ['name', 'slug', 'apiVersion'] as const;
