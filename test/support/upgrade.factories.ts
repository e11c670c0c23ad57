import { randomBytes } from 'node:crypto';
import type { TestApp } from './app';
import type { TestAccount } from './factories';
import { uploadArtifact } from './artifact.factories';
import { createRelease, yankRelease } from './release.factories';
import type { TestRelease } from './release.factories';

/** Releases for upgrade tables: each with its own file bytes so that downloads can be told apart. */

export interface UpgradeRelease extends TestRelease {
  bytes: Buffer | null;
}

export type ReleaseState = 'published' | 'yanked' | 'unpublished';

/**
 * A release of `productId` (channel derived from the version) in the given state: `published`
 * uploads its artifact, `yanked` uploads then yanks, `unpublished` has no artifact.
 */
export async function releaseWithFile(
  t: TestApp,
  account: TestAccount,
  productId: string,
  version: string,
  options: { state?: ReleaseState; attrs?: Record<string, unknown> } = {},
): Promise<UpgradeRelease> {
  const release = await createRelease(t, account, productId, { version, ...(options.attrs ?? {}) });
  const state = options.state ?? 'published';
  if (state === 'unpublished') return { ...release, bytes: null };
  const bytes = Buffer.concat([Buffer.from(`${version} ${release.platform} ${release.filetype}\n`), randomBytes(64)]);
  await uploadArtifact(t, account, release.id, bytes);
  if (state === 'yanked') await yankRelease(t, account, release.id);
  return { ...release, status: state === 'yanked' ? 'YANKED' : 'PUBLISHED', bytes };
}
