import { accountPath } from '../jsonapi/links';
import { iso, ResourceDefinition } from '../jsonapi/serializer';
import type { Entitlement } from './entitlement.entity';

export const EntitlementSerializer: ResourceDefinition<Entitlement> = {
  type: 'entitlements',
  attributeNames: ['name', 'code', 'metadata', 'created', 'updated'],
  attributes: (e) => ({
    name: e.name,
    code: e.code,
    metadata: e.metadata ?? {},
    created: iso(e.created),
    updated: iso(e.updated),
  }),
  relationships: (e) => ({
    account: { links: { related: accountPath(e.accountId) }, data: { type: 'accounts', id: e.accountId } },
  }),
  self: (e) => `${accountPath(e.accountId)}/entitlements/${e.id}`,
};
