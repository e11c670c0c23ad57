import type { Artifact } from '../artifacts/artifact.entity';
import { accountPath } from '../jsonapi/links';
import { iso, ResourceDefinition } from '../jsonapi/serializer';

/**
 * A release's artifact as it appears in `include=artifact`. The artifacts module owns the full
 * artifact resource (download links); this one shows what the release list needs.
 */
export const ArtifactSummarySerializer: ResourceDefinition<Artifact> = {
  type: 'artifacts',
  attributeNames: ['filename', 'filetype', 'filesize', 'contentType', 'sha256', 'sha512', 'status', 'created', 'updated'],
  attributes: (a) => ({
    filename: a.filename,
    filetype: a.filetype,
    filesize: a.filesize,
    contentType: a.contentType,
    sha256: a.sha256,
    sha512: a.sha512,
    status: a.status,
    created: iso(a.created),
    updated: iso(a.updated),
  }),
  relationships: (a) => ({
    account: { links: { related: accountPath(a.accountId) }, data: { type: 'accounts', id: a.accountId } },
    release: { links: { related: `${accountPath(a.accountId)}/releases/${a.releaseId}` }, data: { type: 'releases', id: a.releaseId } },
  }),
  self: (a) => `${accountPath(a.accountId)}/releases/${a.releaseId}/artifact`,
};
