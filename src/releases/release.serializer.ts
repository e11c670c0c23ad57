import { accountPath } from '../jsonapi/links';
import { iso, ResourceDefinition } from '../jsonapi/serializer';
import type { Release } from './release.entity';
import { semverAttribute } from './semver';

export function releasePath(r: Pick<Release, 'accountId' | 'id'>): string {
  return `${accountPath(r.accountId)}/releases/${r.id}`;
}

/** The release object of Keygen's API (seed 001), attribute for attribute. */
export const ReleaseSerializer: ResourceDefinition<Release> = {
  type: 'releases',
  attributeNames: [
    'name', 'description', 'channel', 'platform', 'filename', 'filetype', 'filesize', 'signature', 'checksum',
    'version', 'semver', 'metadata', 'status', 'critical', 'required', 'rolloutPercentage', 'downloads', 'upgrades', 'created', 'updated', 'yanked',
  ],
  attributes: (r) => ({
    name: r.name,
    description: r.description,
    channel: r.channel,
    platform: r.platform,
    filename: r.filename,
    filetype: r.filetype,
    filesize: r.filesize,
    signature: r.signature,
    // a release without a checksum of its own shows its artifact's SHA-256 (hex)
    checksum: r.checksum ?? r.artifactSha256 ?? null,
    version: r.version,
    semver: semverAttribute(r),
    metadata: r.metadata ?? {},
    status: r.status,
    critical: r.critical,
    required: r.required,
    rolloutPercentage: r.rolloutPercentage,
    downloads: r.downloads,
    upgrades: r.upgrades,
    created: iso(r.created),
    updated: iso(r.updated),
    yanked: iso(r.yanked),
  }),
  relationships: (r) => {
    const self = releasePath(r);
    return {
      account: { links: { related: accountPath(r.accountId) }, data: { type: 'accounts', id: r.accountId } },
      product: { links: { related: `${self}/product` }, data: { type: 'products', id: r.productId } },
      constraints: { links: { related: `${self}/constraints` } },
      artifact: { links: { related: `${self}/artifact` } },
    };
  },
  self: releasePath,
  // the counters move on a kept release; everything else comes with a new row
  volatile: (r) => ({ attributes: { downloads: r.downloads, upgrades: r.upgrades } }),
};
