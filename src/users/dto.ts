import { IsEmail, IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import type { UserRole } from './user.entity';

export const USER_ROLES: readonly UserRole[] = ['admin', 'user'];

export class CreateUserDto {
  @IsEmail({}, { message: 'must be a valid email address' })
  @MaxLength(255)
  email: string;

  @IsOptional() @IsString() @MaxLength(255) firstName?: string | null;
  @IsOptional() @IsString() @MaxLength(255) lastName?: string | null;

  @IsOptional()
  @IsIn(USER_ROLES, { message: 'must be admin or user' })
  role?: UserRole;

  @IsOptional()
  @IsString()
  @MinLength(8, { message: 'must be at least 8 characters long' })
  @MaxLength(72, { message: 'must be at most 72 characters long' })
  password?: string | null;
}

export class UpdateUserDto extends CreateUserDto {
  /** Write-only: needed when a user changes its own password. */
  @IsOptional()
  @IsString()
  @MaxLength(72)
  currentPassword?: string;
}

export const USER_ATTRIBUTES = ['email', 'firstName', 'lastName', 'role', 'password'] as const;
export const USER_UPDATE_ATTRIBUTES = [...USER_ATTRIBUTES, 'currentPassword'] as const;
