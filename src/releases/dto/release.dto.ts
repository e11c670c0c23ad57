import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, ValidateBy, ValidateIf } from 'class-validator';
import type { ValidationOptions } from 'class-validator';
import type { Metadata } from '../../database/columns';
import { IsMetadata } from '../../jsonapi/metadata';
import { CHANNELS } from '../release.entity';
import type { Channel } from '../release.entity';
import { byteLength, DESCRIPTION_MAX_BYTES, filenameProblem, filetypeProblem, platformProblem, SIGNATURE_MAX_BYTES } from '../release-attributes';
import { parseStrictVersion, versionFitsChannel } from '../semver';

/** A class-validator rule from a `problem(value, object)` function (null = fine). */
export function Rule(name: string, problem: (value: unknown, object: Record<string, unknown>) => string | null, options?: ValidationOptions) {
  return ValidateBy(
    {
      name,
      validator: {
        validate: (value, args) => problem(value, (args?.object ?? {}) as Record<string, unknown>) === null,
        defaultMessage: (args) => problem(args?.value, (args?.object ?? {}) as Record<string, unknown>) ?? 'is invalid',
      },
    },
    options,
  );
}

export const MaxBytes = (max: number) => Rule('maxBytes', (v) => (typeof v === 'string' && byteLength(v) > max ? `must be at most ${max} bytes` : null));

export const strictVersion = (v: unknown) => (typeof v === 'string' && parseStrictVersion(v) ? null : 'must be a valid semver version (e.g. 1.2.3, without a leading v)');

/** Only judged when both version and channel are otherwise valid (each has its own code). */
export const versionOnChannel = (v: unknown, o: Record<string, unknown>) => {
  const parsed = typeof v === 'string' ? parseStrictVersion(v) : null;
  if (!parsed || !CHANNELS.includes(o.channel as Channel)) return null;
  if (versionFitsChannel(parsed, o.channel as Channel)) return null;
  return o.channel === 'stable'
    ? 'a stable version must not have a prerelease tag'
    : `a ${String(o.channel)} version must have a prerelease tag starting with "${String(o.channel)}"`;
};

/** Attributes both create and update accept. */
class ReleaseMutableAttributes {
  @IsOptional() @IsString() @MaxLength(255, { message: 'must be at most 255 characters' }) name?: string | null;
  @IsOptional() @IsString() @MaxBytes(DESCRIPTION_MAX_BYTES) description?: string | null;

  @IsOptional()
  @IsInt({ message: 'must be a non-negative integer' })
  @Min(0, { message: 'must be a non-negative integer' })
  @Max(Number.MAX_SAFE_INTEGER, { message: 'is too large' })
  filesize?: number | null;

  @IsOptional() @IsString() @MaxBytes(SIGNATURE_MAX_BYTES) signature?: string | null;
  @IsOptional() @IsString() @MaxBytes(SIGNATURE_MAX_BYTES) checksum?: string | null;

  // null is not "absent" for these two either: they always have a value
  @ValidateIf((o: ReleaseMutableAttributes) => o.critical !== undefined)
  @IsBoolean({ message: 'must be true or false' })
  critical?: boolean;

  /** A stepping stone: callers below it are offered it, not anything above it. */
  @ValidateIf((o: ReleaseMutableAttributes) => o.required !== undefined)
  @IsBoolean({ message: 'must be true or false' })
  required?: boolean;

  @ValidateIf((o: ReleaseMutableAttributes) => o.rolloutPercentage !== undefined)
  @IsInt({ message: 'must be an integer from 0 to 100' })
  @Min(0, { message: 'must be an integer from 0 to 100' })
  @Max(100, { message: 'must be an integer from 0 to 100' })
  rolloutPercentage?: number;

  // null is not "absent": metadata is always an object
  @ValidateIf((o: ReleaseMutableAttributes) => o.metadata !== undefined)
  @IsMetadata({ context: { code: 'METADATA_INVALID' } })
  metadata?: Metadata;
}

export class CreateReleaseDto extends ReleaseMutableAttributes {
  @Rule('isStrictSemver', strictVersion)
  @Rule('versionFitsChannel', versionOnChannel, { context: { code: 'VERSION_CHANNEL_INVALID' } })
  version: string;

  @IsIn(CHANNELS, { message: `must be one of ${CHANNELS.join(', ')}` })
  channel: Channel;

  @Rule('isPlatform', platformProblem)
  platform: string;

  @Rule('isFilename', filenameProblem)
  filename: string;

  @Rule('isFiletype', (v, o) => filetypeProblem(v, o.filename))
  filetype: string;

  /** From `relationships.product`. */
  @IsString({ message: 'is required' })
  productId: string;
}

export class UpdateReleaseDto extends ReleaseMutableAttributes {}

export const CREATE_RELEASE_ATTRIBUTES = [
  'name', 'description', 'version', 'channel', 'platform', 'filename', 'filetype', 'filesize', 'signature', 'checksum', 'metadata', 'critical', 'required', 'rolloutPercentage',
] as const;

/** PATCH: everything else (version, channel, platform, filename, filetype, status, ...) is 400 PARAMETER_UNPERMITTED. */
export const UPDATE_RELEASE_ATTRIBUTES = ['name', 'description', 'filesize', 'signature', 'checksum', 'metadata', 'critical', 'required', 'rolloutPercentage'] as const;
