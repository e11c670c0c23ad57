import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { CatalogueListener } from '../../src/catalogue/catalogue-listener';
import { ReleaseStatusService } from '../../src/releases/release-status.service';
import type { TestApp } from './app';
import { api, bearer, TestAccount } from './factories';

/** Releases created through the HTTP API, and published (artifact uploaded) for visibility tests. */

export interface TestRelease {
  id: string;
  productId: string;
  version: string;
  channel: string;
  platform: string;
  filename: string;
  filetype: string;
  status: string;
  created: string;
}

let counter = 0;

const CHANNEL_NAMES = ['rc', 'beta', 'alpha', 'dev'];

/** The channel a version belongs on: `1.0.0-beta.2` -> beta, `1.0.0` -> stable. */
export function channelOf(version: string): string {
  const pre = /^[^-+]+-([0-9A-Za-z]+)/.exec(version)?.[1]?.toLowerCase();
  return CHANNEL_NAMES.find((c) => pre?.startsWith(c)) ?? 'stable';
}

/**
 * A NOT_PUBLISHED release of `productId`. Defaults: a fresh version `1.<n>.0`, its channel, platform
 * `linux/amd64`, a unique `.tar.gz` filename. `attrs` override attributes; `token` defaults to the admin's.
 */
export async function createRelease(
  t: TestApp,
  account: TestAccount,
  productId: string,
  attrs: Record<string, unknown> = {},
  token: string = account.adminToken,
): Promise<TestRelease> {
  counter += 1;
  const version = (attrs.version as string) ?? `1.${counter}.0`;
  const filetype = (attrs.filetype as string) ?? 'tar.gz';
  const res = await api(t, bearer(token)).post(`/v1/accounts/${account.id}/releases`, {
    data: {
      type: 'releases',
      attributes: {
        version,
        channel: channelOf(version),
        platform: 'linux/amd64',
        filename: `app-${randomUUID().slice(0, 8)}-${version}.${filetype}`,
        filetype,
        ...attrs,
      },
      relationships: { product: { data: { type: 'products', id: productId } } },
    },
  });
  if (res.status !== 201) throw new Error(`release creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  const a = res.body.data.attributes;
  return {
    id: res.body.data.id,
    productId,
    version: a.version,
    channel: a.channel,
    platform: a.platform,
    filename: a.filename,
    filetype: a.filetype,
    status: a.status,
    created: a.created,
  };
}

/**
 * Makes a release PUBLISHED the way a completed upload does: an UPLOADED artifact row, then the
 * status machine's 'artifact-uploaded' event (a yanked release stays YANKED). No bytes are stored,
 * so this is for visibility and status tests; tests that download use the artifacts factories.
 * Returns the release's status afterwards.
 */
export async function publishRelease(t: TestApp, account: TestAccount, releaseId: string): Promise<string> {
  const db = t.app.get(DataSource);
  const [release] = await db.query('SELECT filename, filetype FROM releases WHERE id = $1 AND account_id = $2', [releaseId, account.id]);
  if (!release) throw new Error(`release ${releaseId} not found`);
  await db.query(
    `INSERT INTO artifacts (account_id, release_id, filename, filetype, filesize, content_type, status)
     VALUES ($1, $2, $3, $4, 0, 'application/octet-stream', 'UPLOADED')
     ON CONFLICT (release_id, filename) DO UPDATE SET status = 'UPLOADED'`,
    [account.id, releaseId, release.filename, release.filetype],
  );
  const { status } = await t.app.get(ReleaseStatusService).apply(account.id, releaseId, 'artifact-uploaded');
  await t.app.get(CatalogueListener).settle(); // written beside the API: wait until the catalogue has it, as a write through the API does
  return status;
}

/** Yanks a release as the admin. */
export async function yankRelease(t: TestApp, account: TestAccount, releaseId: string): Promise<void> {
  const res = await api(t, bearer(account.adminToken)).post(`/v1/accounts/${account.id}/releases/${releaseId}/actions/yank`);
  if (res.status !== 200) throw new Error(`yank failed: ${res.status} ${JSON.stringify(res.body)}`);
}

/** Attaches entitlements to a release as constraints (as the admin). */
export async function constrainRelease(t: TestApp, account: TestAccount, releaseId: string, entitlementIds: string[]): Promise<string[]> {
  const res = await api(t, bearer(account.adminToken)).post(`/v1/accounts/${account.id}/releases/${releaseId}/constraints`, {
    data: entitlementIds.map((id) => ({ type: 'constraints', relationships: { entitlement: { data: { type: 'entitlements', id } } } })),
  });
  if (res.status !== 200) throw new Error(`constraint attach failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.map((c: { id: string }) => c.id);
}
