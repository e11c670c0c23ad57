import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsBoolean, IsIn, IsOptional, IsString, IsUrl, MaxLength } from 'class-validator';
import { EVENT_NAMES } from '../events/event-names';

const SUBSCRIBABLE = ['*', ...EVENT_NAMES];

export class CreateWebhookEndpointDto {
  @IsString({ message: 'must be a string' })
  @MaxLength(2048, { message: 'must be at most 2048 characters long' })
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false, require_valid_protocol: true }, { message: 'must be an http or https URL' })
  url: string;

  @IsOptional()
  @IsArray({ message: 'must be an array of event names, or ["*"]' })
  @ArrayNotEmpty({ message: 'must name at least one event, or "*"' })
  @ArrayMaxSize(100, { message: 'must list at most 100 events' })
  @IsIn(SUBSCRIBABLE, { each: true, message: `must hold "*" or event names: ${EVENT_NAMES.join(', ')}` })
  events?: string[];

  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  enabled?: boolean;
}

export class UpdateWebhookEndpointDto extends CreateWebhookEndpointDto {}

export const WEBHOOK_ENDPOINT_ATTRIBUTES = ['url', 'events', 'enabled'] as const;
