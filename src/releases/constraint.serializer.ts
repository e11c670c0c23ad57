import { accountPath } from '../jsonapi/links';
import { iso, ResourceDefinition } from '../jsonapi/serializer';
import type { ReleaseConstraint } from './release-constraint.entity';

/** A release's required entitlement. */
export const ConstraintSerializer: ResourceDefinition<ReleaseConstraint> = {
  type: 'constraints',
  attributeNames: ['created', 'updated'],
  attributes: (c) => ({ created: iso(c.created), updated: iso(c.updated) }),
  relationships: (c) => {
    const base = accountPath(c.accountId);
    return {
      account: { links: { related: base }, data: { type: 'accounts', id: c.accountId } },
      release: { links: { related: `${base}/releases/${c.releaseId}` }, data: { type: 'releases', id: c.releaseId } },
      entitlement: { links: { related: `${base}/entitlements/${c.entitlementId}` }, data: { type: 'entitlements', id: c.entitlementId } },
    };
  },
  self: (c) => `${accountPath(c.accountId)}/releases/${c.releaseId}/constraints/${c.id}`,
};
