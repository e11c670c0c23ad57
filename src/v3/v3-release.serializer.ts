import type { Release } from '../releases/release.entity';
import type { ChangelogEntry } from '../upgrades/upgrade-finder';

/** The release object of Cryptlex's v3 release API (plain JSON). */
export interface V3Release {
  id: string;
  name: string | null;
  channel: string;
  version: string;
  platform: string;
  filename: string;
  published: boolean;
  url: string;
  filesize: number | null;
  checksum: string | null;
  /** The artifact's SHA-256 (hex), null before an upload. */
  sha256: string | null;
  /** The release's signature (e.g. a Tauri `.sig` file's content). */
  signature: string | null;
  /** When the release was created (RFC 3339), as updaters name it. */
  pub_date: string;
  productId: string;
  notes: string | null;
  createdAt: string;
  updatedAt: string;
  /** A visible release above the caller's version, up to this one, is critical (latest: this one is). */
  critical: boolean;
  /** Update checks: the visible releases above the caller's version up to this one, newest first. */
  changelog?: readonly ChangelogEntry[];
  /** The caller's version is below the product's minimumVersion (present only then). */
  belowMinimum?: true;
  /** This release is below the caller's, whose release was yanked (present only then). */
  rollback?: true;
}

/** V3Release as a JSON schema, for the OpenAPI document (the answers of the update check and latest). */
export const V3_RELEASE_SCHEMA = {
  type: 'object',
  required: ['id', 'name', 'channel', 'version', 'platform', 'filename', 'published', 'url', 'filesize', 'checksum', 'sha256', 'signature', 'pub_date', 'productId', 'notes', 'createdAt', 'updatedAt', 'critical'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    name: { type: ['string', 'null'] },
    channel: { type: 'string', enum: ['stable', 'rc', 'beta', 'alpha', 'dev'] },
    version: { type: 'string', description: 'SemVer' },
    platform: { type: 'string' },
    filename: { type: 'string' },
    published: { type: 'boolean' },
    url: { type: 'string', format: 'uri', description: 'Downloads the file: /v3/<id>, with ?key= for a license key' },
    filesize: { type: ['integer', 'null'] },
    checksum: { type: ['string', 'null'], description: "The release's checksum, else its file's SHA-256 (hex)" },
    sha256: { type: ['string', 'null'], description: "The file's SHA-256 (hex); null before an upload" },
    signature: { type: ['string', 'null'], description: "e.g. a Tauri .sig file's content" },
    pub_date: { type: 'string', format: 'date-time' },
    productId: { type: 'string', format: 'uuid' },
    notes: { type: ['string', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    critical: { type: 'boolean', description: 'A release between the caller\'s version and this one is critical (latest: this one is)' },
    belowMinimum: { type: 'boolean', enum: [true], description: "Present when the caller's version is below the product's minimum version" },
    rollback: { type: 'boolean', enum: [true], description: "Present when this release is below the caller's, whose release was yanked" },
    changelog: {
      type: 'array',
      description: 'Update checks only: the releases above the caller\'s version up to this one, newest first',
      items: {
        type: 'object',
        required: ['version', 'notes', 'created'],
        properties: { version: { type: 'string' }, notes: { type: ['string', 'null'] }, created: { type: 'string', format: 'date-time' } },
        additionalProperties: false,
      },
    },
  },
  additionalProperties: false,
} as const;

/** `<PUBLIC_URL>/v3/<id>?key=<key>`: the key only for license callers (token callers send their token). */
export function v3DownloadUrl(publicUrl: string, releaseId: string, licenseKey?: string): string {
  const base = `${publicUrl}/v3/${releaseId}`;
  return licenseKey ? `${base}?key=${encodeURIComponent(licenseKey)}` : base;
}

/** A release's Cryptlex answer (the fast path keeps it serialized per offered release: MEMO_KINDS.v3Update). */
export function toV3Release(release: Release, url: string, critical: boolean, changelog?: readonly ChangelogEntry[], policy?: { belowMinimum?: true; rollback?: true }): V3Release {
  const b = {
      id: release.id,
      name: release.name,
      channel: release.channel,
      version: release.version,
      platform: release.platform,
      filename: release.filename,
      published: release.status === 'PUBLISHED',
      filesize: release.filesize,
      // the release's own checksum, else its artifact's SHA-256
      checksum: release.checksum ?? release.artifactSha256 ?? null,
      sha256: release.artifactSha256 ?? null,
      signature: release.signature,
      pub_date: release.created.toISOString(),
      productId: release.productId,
      notes: release.description,
      createdAt: release.created.toISOString(),
      updatedAt: release.updated.toISOString(),
  };
  return {
    id: b.id,
    name: b.name,
    channel: b.channel,
    version: b.version,
    platform: b.platform,
    filename: b.filename,
    published: b.published,
    url,
    filesize: b.filesize,
    checksum: b.checksum,
    sha256: b.sha256,
    signature: b.signature,
    pub_date: b.pub_date,
    productId: b.productId,
    notes: b.notes,
    createdAt: b.createdAt,
    updatedAt: b.updatedAt,
    critical,
    changelog,
    ...(policy?.belowMinimum ? { belowMinimum: true as const } : {}),
    ...(policy?.rollback ? { rollback: true as const } : {}),
  };
}
