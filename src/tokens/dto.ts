import { IsISO8601, IsOptional, IsString, MaxLength } from 'class-validator';

export class CreateTokenDto {
  @IsOptional() @IsString() @MaxLength(255) name?: string | null;

  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'must be an ISO 8601 timestamp' })
  expiry?: string | null;
}

export const TOKEN_ATTRIBUTES = ['name', 'expiry'] as const;
