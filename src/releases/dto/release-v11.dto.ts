import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import type { Metadata } from '../../database/columns';
import { IsMetadata } from '../../jsonapi/metadata';
import { CHANNELS } from '../release.entity';
import type { Channel } from '../release.entity';
import { DESCRIPTION_MAX_BYTES, filenameProblem, filetypeProblem, SIGNATURE_MAX_BYTES } from '../release-attributes';
import { MaxBytes, Rule, strictVersion, versionOnChannel } from './release.dto';

/** A release tag: letters, digits, `.`, `_`, `-` (and not a UUID, which would read as an id). */
export const TAG = /^[A-Za-z0-9._-]{1,255}$/;
const NOT_UUID = /^(?![0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$)/i;

/** Attributes a 1.1 release accepts at creation and by PATCH. */
class ReleaseV11Mutable {
  @IsOptional() @IsString() @MaxLength(255, { message: 'must be at most 255 characters' }) name?: string | null;
  @IsOptional() @IsString() @MaxBytes(DESCRIPTION_MAX_BYTES) description?: string | null;

  @IsOptional()
  @IsString()
  @Matches(TAG, { message: 'must be 1 to 255 letters, digits, dots, dashes or underscores' })
  @Matches(NOT_UUID, { message: 'must not look like a UUID' })
  tag?: string | null;

  @ValidateIf((o: ReleaseV11Mutable) => o.critical !== undefined)
  @IsBoolean({ message: 'must be true or false' })
  critical?: boolean;

  /** A stepping stone: callers below it are offered it, not anything above it. */
  @ValidateIf((o: ReleaseV11Mutable) => o.required !== undefined)
  @IsBoolean({ message: 'must be true or false' })
  required?: boolean;

  @ValidateIf((o: ReleaseV11Mutable) => o.rolloutPercentage !== undefined)
  @IsInt({ message: 'must be an integer from 0 to 100' })
  @Min(0, { message: 'must be an integer from 0 to 100' })
  @Max(100, { message: 'must be an integer from 0 to 100' })
  rolloutPercentage?: number;

  @ValidateIf((o: ReleaseV11Mutable) => o.metadata !== undefined)
  @IsMetadata({ context: { code: 'METADATA_INVALID' } })
  metadata?: Metadata;
}

export class CreateReleaseV11Dto extends ReleaseV11Mutable {
  @Rule('isStrictSemver', strictVersion)
  @Rule('versionFitsChannel', versionOnChannel, { context: { code: 'VERSION_CHANNEL_INVALID' } })
  version: string;

  @IsIn(CHANNELS, { message: `must be one of ${CHANNELS.join(', ')}` })
  channel: Channel;

  /** DRAFT (default) or PUBLISHED: a published release offers its artifacts as they are uploaded. */
  @IsOptional()
  @IsIn(['DRAFT', 'PUBLISHED'], { message: 'must be DRAFT or PUBLISHED' })
  status?: 'DRAFT' | 'PUBLISHED';

  /** From `relationships.product`. */
  @IsString({ message: 'is required' })
  productId: string;

  /** From `relationships.package` (an id or a key): the package the release belongs to. */
  @IsOptional() @IsString() packageId?: string | null;
}

export class UpdateReleaseV11Dto extends ReleaseV11Mutable {
  /** From `relationships.package`: moves the release into a package (null: out of any). */
  @IsOptional() @IsString() packageId?: string | null;
}

export const CREATE_RELEASE_V11_ATTRIBUTES = ['name', 'description', 'version', 'channel', 'tag', 'status', 'metadata', 'critical', 'required', 'rolloutPercentage'] as const;
export const UPDATE_RELEASE_V11_ATTRIBUTES = ['name', 'description', 'tag', 'metadata', 'critical', 'required', 'rolloutPercentage'] as const;

const PLATFORM_PART = /^[a-z0-9][a-z0-9._+-]*$/;
const platformPartProblem = (v: unknown) =>
  v === undefined || v === null || (typeof v === 'string' && v.length <= 64 && PLATFORM_PART.test(v)) ? null : 'must be lowercase letters, digits and . _ + - (at most 64 characters)';

/** Attributes an artifact accepts at creation and by PATCH. */
class ArtifactMutable {
  @IsOptional()
  @IsInt({ message: 'must be a non-negative integer' })
  @Min(0, { message: 'must be a non-negative integer' })
  @Max(Number.MAX_SAFE_INTEGER, { message: 'is too large' })
  filesize?: number | null;

  @IsOptional() @IsString() @MaxBytes(SIGNATURE_MAX_BYTES) signature?: string | null;
  @IsOptional() @IsString() @MaxBytes(SIGNATURE_MAX_BYTES) checksum?: string | null;

  @ValidateIf((o: ArtifactMutable) => o.metadata !== undefined)
  @IsMetadata({ context: { code: 'METADATA_INVALID' } })
  metadata?: Metadata;
}

export class CreateArtifactDto extends ArtifactMutable {
  @Rule('isFilename', filenameProblem)
  filename: string;

  /**
   * Optional: the filename's extension when absent (`app.exe.blockmap` -> `blockmap`). A leading
   * dot is dropped (electron-builder sends `.exe`).
   */
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' && value.startsWith('.') ? value.slice(1) : value))
  @Rule('isFiletype', (v, o) => filetypeProblem(v, o.filename))
  filetype?: string;

  @IsOptional() @Rule('isPlatform', platformPartProblem) platform?: string | null;
  @IsOptional() @Rule('isArch', platformPartProblem) arch?: string | null;

  /** From `relationships.release` (an id, a version or a tag). */
  @IsString({ message: 'is required' })
  releaseId: string;
}

export class UpdateArtifactDto extends ArtifactMutable {}

export const CREATE_ARTIFACT_ATTRIBUTES = ['filename', 'filetype', 'filesize', 'platform', 'arch', 'signature', 'checksum', 'metadata'] as const;
export const UPDATE_ARTIFACT_ATTRIBUTES = ['filesize', 'signature', 'checksum', 'metadata'] as const;
