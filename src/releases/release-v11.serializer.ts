import { accountPath } from '../jsonapi/links';
import { iso, ResourceDefinition } from '../jsonapi/serializer';
import type { Release, ReleaseStatus } from './release.entity';
import { releasePath } from './release.serializer';
import { semverAttribute } from './semver';

/** 1.1 names 1.0's NOT_PUBLISHED `DRAFT`. */
export type ReleaseStatusV11 = 'DRAFT' | 'PUBLISHED' | 'YANKED';

export function statusV11(status: ReleaseStatus): ReleaseStatusV11 {
  return status === 'NOT_PUBLISHED' ? 'DRAFT' : status;
}

/**
 * The release of API 1.1 and later (Keygen's current release object): no file attributes (those
 * are its artifacts'), a `tag`, `DRAFT` for 1.0's NOT_PUBLISHED, and the to-many `artifacts`. A
 * 1.0 release shows here as a release with one artifact.
 */
export const ReleaseSerializerV11: ResourceDefinition<Release> = {
  type: 'releases',
  attributeNames: [
    'name', 'description', 'channel', 'version', 'tag', 'semver', 'metadata', 'status', 'critical', 'required', 'rolloutPercentage',
    'downloads', 'upgrades', 'created', 'updated', 'yanked',
  ],
  attributes: (r) => ({
    name: r.name,
    description: r.description,
    channel: r.channel,
    version: r.version,
    tag: r.tag,
    semver: semverAttribute(r),
    metadata: r.metadata ?? {},
    status: statusV11(r.status),
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
      artifacts: { links: { related: `${self}/artifacts` } },
      package: { data: r.packageId ? { type: 'packages', id: r.packageId } : null },
    };
  },
  self: releasePath,
  volatile: (r) => ({ attributes: { downloads: r.downloads, upgrades: r.upgrades } }),
};
