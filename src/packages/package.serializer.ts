import { accountPath } from '../jsonapi/links';
import { iso, ResourceDefinition } from '../jsonapi/serializer';
import type { Package } from './package.entity';

export const PackageSerializer: ResourceDefinition<Package> = {
  type: 'packages',
  attributeNames: ['name', 'key', 'engine', 'metadata', 'created', 'updated'],
  attributes: (p) => ({
    name: p.name,
    key: p.key,
    engine: p.engine,
    metadata: p.metadata ?? {},
    created: iso(p.created),
    updated: iso(p.updated),
  }),
  relationships: (p) => ({
    account: { links: { related: accountPath(p.accountId) }, data: { type: 'accounts', id: p.accountId } },
    product: { links: { related: `${accountPath(p.accountId)}/products/${p.productId}` }, data: { type: 'products', id: p.productId } },
    // the filtered list is the related collection
    releases: { links: { related: `${accountPath(p.accountId)}/releases?package=${p.id}` } },
  }),
  self: (p) => `${accountPath(p.accountId)}/packages/${p.id}`,
};
