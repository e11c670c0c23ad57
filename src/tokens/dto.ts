import { IsOptional, IsString, MaxLength } from 'class-validator';
import { IsTimestamp } from '../jsonapi/timestamp';

export class CreateTokenDto {
  @IsOptional() @IsString() @MaxLength(255) name?: string | null;

  @IsOptional()
  @IsTimestamp({ message: 'must be an ISO 8601 timestamp' })
  expiry?: string | null;
}

export const TOKEN_ATTRIBUTES = ['name', 'expiry'] as const;
