import { IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { IsMetadata } from '../jsonapi/metadata';

export class CreateEntitlementDto {
  @IsString({ message: 'must be a string' })
  @IsNotEmpty({ message: 'must not be blank' })
  @MaxLength(255, { message: 'must be at most 255 characters long' })
  name: string;

  @IsString({ message: 'must be a string' })
  @IsNotEmpty({ message: 'must not be blank' })
  @MaxLength(255, { message: 'must be at most 255 characters long' })
  code: string;

  @IsOptional()
  @IsMetadata()
  metadata?: Record<string, unknown>;
}

export class UpdateEntitlementDto extends CreateEntitlementDto {}

export const ENTITLEMENT_ATTRIBUTES = ['name', 'code', 'metadata'] as const;
