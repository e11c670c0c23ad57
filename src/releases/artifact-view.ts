import { accountPath } from '../jsonapi/links';
import { iso, ResourceDefinition } from '../jsonapi/serializer';
import type { Artifact } from './artifact.entity';
import type { Release } from './release.entity';

/** What an artifact shows of its release (a 1.0 release's artifact takes its platform and signature from it). */
export type ArtifactRelease = Pick<Release, 'id' | 'productId' | 'multiArtifact' | 'platform' | 'signature' | 'checksum' | 'metadata'>;

/** An artifact as API 1.1 shows it: its row, its release's product, and a download URL when one was issued. */
export interface ArtifactV11 {
  /** The artifact's id (the resource's). */
  readonly id: string;
  readonly artifact: Artifact;
  readonly productId: string;
  readonly platform: string | null;
  readonly arch: string | null;
  readonly signature: string | null;
  readonly checksum: string | null;
  readonly metadata: Record<string, unknown>;
  readonly redirect?: string;
}

/** `darwin/arm64` -> [`darwin`, `arm64`]; `linux` -> [`linux`, null]. */
export function splitPlatform(platform: string | null): [string | null, string | null] {
  if (!platform) return [null, null];
  const slash = platform.indexOf('/');
  return slash < 0 ? [platform, null] : [platform.slice(0, slash), platform.slice(slash + 1) || null];
}

/**
 * The 1.1 view of an artifact: a 1.1 release's artifact carries its own platform, arch,
 * signature, checksum and metadata; the one artifact of a 1.0 release shows its release's
 * (`darwin/arm64` as platform `darwin`, arch `arm64`), as Keygen's request migrations do.
 */
export function artifactV11(artifact: Artifact, release: ArtifactRelease, redirect?: string): ArtifactV11 {
  if (release.multiArtifact) {
    return {
      id: artifact.id,
      artifact,
      productId: release.productId,
      platform: artifact.platform,
      arch: artifact.arch,
      signature: artifact.signature,
      checksum: artifact.checksum,
      metadata: artifact.metadata ?? {},
      redirect,
    };
  }
  const [platform, arch] = splitPlatform(release.platform);
  return { id: artifact.id, artifact, productId: release.productId, platform, arch, signature: release.signature, checksum: release.checksum, metadata: {}, redirect };
}

export function artifactPathV11(a: Pick<Artifact, 'accountId' | 'id'>): string {
  return `${accountPath(a.accountId)}/artifacts/${a.id}`;
}

/** Keygen's artifact object of API 1.1 and later, with artifact constraints (beyond Keygen). */
export const ArtifactSerializerV11: ResourceDefinition<ArtifactV11> = {
  type: 'artifacts',
  attributeNames: [
    'filename', 'filetype', 'filesize', 'platform', 'arch', 'signature', 'checksum', 'contentType', 'sha256', 'sha512', 'metadata',
    'status', 'downloads', 'created', 'updated',
  ],
  attributes: (v) => ({
    filename: v.artifact.filename,
    filetype: v.artifact.filetype,
    filesize: v.artifact.filesize,
    platform: v.platform,
    arch: v.arch,
    signature: v.signature,
    checksum: v.checksum,
    contentType: v.artifact.contentType,
    sha256: v.artifact.sha256,
    sha512: v.artifact.sha512,
    metadata: v.metadata,
    status: v.artifact.status,
    downloads: v.artifact.downloads ?? 0,
    created: iso(v.artifact.created),
    updated: iso(v.artifact.updated),
  }),
  relationships: (v) => {
    const a = v.artifact;
    const base = accountPath(a.accountId);
    return {
      account: { links: { related: base }, data: { type: 'accounts', id: a.accountId } },
      product: { links: { related: `${base}/products/${v.productId}` }, data: { type: 'products', id: v.productId } },
      release: { links: { related: `${base}/releases/${a.releaseId}` }, data: { type: 'releases', id: a.releaseId } },
      constraints: { links: { related: `${artifactPathV11(a)}/constraints` } },
    };
  },
  self: (v) => artifactPathV11(v.artifact),
  links: (v): Record<string, string> => (v.redirect ? { redirect: v.redirect } : {}),
};

/** The same view with a download URL (`links.redirect`). */
export function withRedirectV11(view: ArtifactV11, url: string): ArtifactV11 {
  return { ...view, redirect: url };
}
