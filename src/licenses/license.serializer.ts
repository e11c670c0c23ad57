import { accountPath } from '../jsonapi/links';
import { iso, ResourceDefinition } from '../jsonapi/serializer';
import type { License } from './license.entity';

export const LicenseSerializer: ResourceDefinition<License> = {
  type: 'licenses',
  attributeNames: ['key', 'name', 'expiry', 'expirationStrategy', 'status', 'suspended', 'versionPin', 'metadata', 'created', 'updated'],
  attributes: (l) => ({
    key: l.key,
    name: l.name,
    expiry: iso(l.expiry),
    expirationStrategy: l.expirationStrategy,
    status: l.statusAt(),
    suspended: l.suspended,
    versionPin: l.versionPin ?? null,
    metadata: l.metadata ?? {},
    created: iso(l.created),
    updated: iso(l.updated),
  }),
  relationships: (l) => {
    const base = accountPath(l.accountId);
    return {
      account: { links: { related: base }, data: { type: 'accounts', id: l.accountId } },
      product: { links: { related: `${base}/products/${l.productId}` }, data: { type: 'products', id: l.productId } },
      user: l.userId ? { links: { related: `${base}/users/${l.userId}` }, data: { type: 'users', id: l.userId } } : { data: null },
      entitlements: { links: { related: `${base}/licenses/${l.id}/entitlements` } },
    };
  },
  self: (l) => `${accountPath(l.accountId)}/licenses/${l.id}`,
};
