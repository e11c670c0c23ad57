import { ApiError, ErrorCode } from '../jsonapi/errors';
import type { ReleaseStatus } from './release.entity';

/** What can happen to a release. Every status change in Shipgate is one of these. */
export type ReleaseEvent = 'artifact-uploaded' | 'artifact-removed' | 'yank' | 'publish' | 'draft';

/**
 * The status machine, the only place that decides a release's next status:
 * - a completed upload publishes a NOT_PUBLISHED release (a yanked one stays yanked);
 * - removing the artifact unpublishes a PUBLISHED release;
 * - yank works from any status and is idempotent;
 * - publish (of a yanked or unpublished release) needs an uploaded artifact, except for a 1.1
 *   release (many artifacts), which offers its artifacts as they are uploaded;
 * - draft (1.1) makes any release NOT_PUBLISHED (`DRAFT`) and clears `yanked`;
 * - a 1.1 release's uploads and removals change only its artifacts (never sent here).
 */
export const TRANSITIONS: Record<ReleaseEvent, Record<ReleaseStatus, ReleaseStatus>> = {
  'artifact-uploaded': { NOT_PUBLISHED: 'PUBLISHED', PUBLISHED: 'PUBLISHED', YANKED: 'YANKED' },
  'artifact-removed': { NOT_PUBLISHED: 'NOT_PUBLISHED', PUBLISHED: 'NOT_PUBLISHED', YANKED: 'YANKED' },
  yank: { NOT_PUBLISHED: 'YANKED', PUBLISHED: 'YANKED', YANKED: 'YANKED' },
  publish: { NOT_PUBLISHED: 'PUBLISHED', PUBLISHED: 'PUBLISHED', YANKED: 'PUBLISHED' },
  draft: { NOT_PUBLISHED: 'NOT_PUBLISHED', PUBLISHED: 'NOT_PUBLISHED', YANKED: 'NOT_PUBLISHED' },
};

export interface StatusChange {
  status: ReleaseStatus;
  /** The new `yanked` timestamp: a Date when yanked now, null when cleared, undefined to keep. */
  yanked: Date | null | undefined;
}

export function nextStatus(
  current: ReleaseStatus,
  event: ReleaseEvent,
  context: { artifactUploaded: boolean; multiArtifact?: boolean; now?: Date },
): StatusChange {
  if (event === 'publish' && !context.artifactUploaded && !context.multiArtifact) {
    throw new ApiError(422, ErrorCode.ARTIFACT_NOT_UPLOADED, 'The release has no uploaded artifact to publish');
  }
  const status = TRANSITIONS[event][current];
  let yanked: Date | null | undefined;
  if (event === 'yank') yanked = current === 'YANKED' ? undefined : (context.now ?? new Date());
  if (event === 'publish' || event === 'draft') yanked = null;
  return { status, yanked };
}
