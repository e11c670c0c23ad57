import { ApiError } from '../jsonapi/errors';
import { nextStatus } from './release-status';

describe('release status machine', () => {
  const now = new Date('2026-01-01T00:00:00Z');

  it('publishes an unpublished release when its upload completes, but never un-yanks', () => {
    expect(nextStatus('NOT_PUBLISHED', 'artifact-uploaded', { artifactUploaded: true })).toEqual({ status: 'PUBLISHED', yanked: undefined });
    expect(nextStatus('YANKED', 'artifact-uploaded', { artifactUploaded: true }).status).toBe('YANKED');
  });

  it('yanks from any status, stamping the time once', () => {
    expect(nextStatus('PUBLISHED', 'yank', { artifactUploaded: true, now })).toEqual({ status: 'YANKED', yanked: now });
    expect(nextStatus('NOT_PUBLISHED', 'yank', { artifactUploaded: false, now }).status).toBe('YANKED');
    expect(nextStatus('YANKED', 'yank', { artifactUploaded: true, now })).toEqual({ status: 'YANKED', yanked: undefined });
  });

  it('publishes only with an uploaded artifact and clears yanked', () => {
    expect(nextStatus('YANKED', 'publish', { artifactUploaded: true })).toEqual({ status: 'PUBLISHED', yanked: null });
    expect(() => nextStatus('NOT_PUBLISHED', 'publish', { artifactUploaded: false })).toThrow(ApiError);
    try {
      nextStatus('YANKED', 'publish', { artifactUploaded: false });
    } catch (e) {
      expect((e as ApiError).status).toBe(422);
      expect((e as ApiError).errors[0].code).toBe('ARTIFACT_NOT_UPLOADED');
    }
  });

  it('unpublishes a published release whose artifact is removed', () => {
    expect(nextStatus('PUBLISHED', 'artifact-removed', { artifactUploaded: false }).status).toBe('NOT_PUBLISHED');
    expect(nextStatus('YANKED', 'artifact-removed', { artifactUploaded: false }).status).toBe('YANKED');
  });
});
