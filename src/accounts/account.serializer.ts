import { iso, ResourceDefinition } from '../jsonapi/serializer';
import { accountPath } from '../jsonapi/links';
import type { Account } from './account.entity';

export const AccountSerializer: ResourceDefinition<Account> = {
  type: 'accounts',
  attributeNames: ['name', 'slug', 'apiVersion', 'created', 'updated'],
  attributes: (a) => ({ name: a.name, slug: a.slug, apiVersion: a.apiVersion ?? '1.0', created: iso(a.created), updated: iso(a.updated) }),
  relationships: (a) => ({
    users: { links: { related: `${accountPath(a.id)}/users` } },
    products: { links: { related: `${accountPath(a.id)}/products` } },
    releases: { links: { related: `${accountPath(a.id)}/releases` } },
  }),
  self: (a) => accountPath(a.id),
};
