import { accountPath } from '../jsonapi/links';
import { copiedFrom, iso, ResourceDefinition } from '../jsonapi/serializer';
import type { Artifact } from './artifact.entity';

/** An artifact, with the download URL issued with it (`links.redirect`) when there is one. */
export type ArtifactView = Artifact & { redirect?: string };

export function withRedirect(artifact: Artifact, url: string): ArtifactView {
  const view: ArtifactView = Object.assign(Object.create(Object.getPrototypeOf(artifact) as object) as Artifact, artifact, { redirect: url });
  copiedFrom(view, artifact);
  return view;
}

export const ArtifactSerializer: ResourceDefinition<ArtifactView> = {
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
  // an artifact is reached through its release (one artifact per release)
  self: (a) => `${accountPath(a.accountId)}/releases/${a.releaseId}/artifact`,
  links: (a): Record<string, string> => (a.redirect ? { redirect: a.redirect } : {}),
  // the download link is issued per answer; a kept artifact row changes only with a new load
  volatile: (a) => (a.redirect ? { links: { redirect: a.redirect } } : {}),
};
