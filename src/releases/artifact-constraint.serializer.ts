import { accountPath } from '../jsonapi/links';
import { iso, ResourceDefinition } from '../jsonapi/serializer';
import type { ArtifactConstraint } from './artifact-constraint.entity';

/** An artifact's required entitlement (beyond Keygen): the same resource type as a release's constraint. */
export const ArtifactConstraintSerializer: ResourceDefinition<ArtifactConstraint> = {
  type: 'constraints',
  attributeNames: ['created'],
  attributes: (c) => ({ created: iso(c.created) }),
  relationships: (c) => {
    const base = accountPath(c.accountId);
    return {
      account: { links: { related: base }, data: { type: 'accounts', id: c.accountId } },
      artifact: { links: { related: `${base}/artifacts/${c.artifactId}` }, data: { type: 'artifacts', id: c.artifactId } },
      release: { links: { related: `${base}/releases/${c.releaseId}` }, data: { type: 'releases', id: c.releaseId } },
      entitlement: { links: { related: `${base}/entitlements/${c.entitlementId}` }, data: { type: 'entitlements', id: c.entitlementId } },
    };
  },
  self: (c) => `${accountPath(c.accountId)}/artifacts/${c.artifactId}/constraints/${c.id}`,
};
