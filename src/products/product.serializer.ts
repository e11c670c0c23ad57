import { accountPath } from '../jsonapi/links';
import { iso, ResourceDefinition } from '../jsonapi/serializer';
import type { Product } from './product.entity';

export const ProductSerializer: ResourceDefinition<Product> = {
  type: 'products',
  attributeNames: ['name', 'code', 'distributionStrategy', 'url', 'minimumVersion', 'rollbackOnYank', 'metadata', 'created', 'updated'],
  attributes: (p) => ({
    name: p.name,
    code: p.code,
    distributionStrategy: p.distributionStrategy,
    url: p.url,
    minimumVersion: p.minimumVersion ?? null,
    rollbackOnYank: p.rollbackOnYank ?? false,
    metadata: p.metadata ?? {},
    created: iso(p.created),
    updated: iso(p.updated),
  }),
  relationships: (p) => ({
    account: { links: { related: accountPath(p.accountId) }, data: { type: 'accounts', id: p.accountId } },
    // the filtered lists are the related collections (GET /releases?product=, GET /licenses?product=)
    releases: { links: { related: `${accountPath(p.accountId)}/releases?product=${p.id}` } },
    licenses: { links: { related: `${accountPath(p.accountId)}/licenses?product=${p.id}` } },
  }),
  self: (p) => `${accountPath(p.accountId)}/products/${p.id}`,
};
