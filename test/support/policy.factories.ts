import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { CatalogueListener } from '../../src/catalogue/catalogue-listener';
import type { TestApp } from './app';
import { api, bearer, TestAccount } from './factories';
import type { TestLicense } from './catalogue.factories';

/** Helpers for the update policy tests (staged rollouts, critical updates, changelog). */

/**
 * The rollout bucket exactly as the contract words it, computed here without the app's code:
 * the first 4 bytes of SHA-256 of `<release id>:<license id or installId>`, big-endian, mod 100.
 */
export function contractBucket(releaseId: string, subject: string): number {
  const digest = createHash('sha256').update(`${releaseId}:${subject}`, 'utf8').digest();
  const first4 = digest[0] * 2 ** 24 + digest[1] * 2 ** 16 + digest[2] * 2 ** 8 + digest[3];
  return first4 % 100;
}

/** In the cohort of a release at `percentage`: bucket < p. */
export const inCohort = (releaseId: string, percentage: number, subject: string) => contractBucket(releaseId, subject) < percentage;

/**
 * `count` licenses of `productId` inserted in one SQL statement through the app's DataSource
 * (ids chosen here, keys unique), optionally owned by `userId`. The catalogue hears the insert
 * like any other write; the helper waits until it has applied it.
 */
export async function insertLicenses(
  t: TestApp,
  account: TestAccount,
  productId: string,
  count: number,
  options: { ids?: string[]; userId?: string } = {},
): Promise<TestLicense[]> {
  const ids = options.ids ?? Array.from({ length: count }, () => randomUUID());
  const keys = ids.map(() => randomBytes(16).toString('hex').toUpperCase());
  await t.app.get(DataSource).query(
    `INSERT INTO licenses (id, account_id, product_id, user_id, key)
     SELECT u.id, $1, $2, $3, u.key FROM unnest($4::uuid[], $5::text[]) AS u(id, key)`,
    [account.id, productId, options.userId ?? null, ids, keys],
  );
  await t.app.get(CatalogueListener).settle();
  return ids.map((id, i) => ({ id, key: keys[i], productId, userId: options.userId ?? null }));
}

/** Runs `fn` over `items` with at most `limit` in flight (the machine is small), results in order. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** PATCHes a release's attributes as the admin (throws unless 200). */
export async function patchRelease(t: TestApp, account: TestAccount, releaseId: string, attributes: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await api(t, bearer(account.adminToken)).patch(`/v1/accounts/${account.id}/releases/${releaseId}`, {
    data: { type: 'releases', id: releaseId, attributes },
  });
  if (res.status !== 200) throw new Error(`release update failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.attributes;
}

const qs = (params: Record<string, string | undefined>) =>
  new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined)).toString();

/** What an update answer tells a client, route by route, in one comparable shape. */
export interface PolicyAnswer {
  status: number;
  /** The offered release's id (null when there is none). */
  id: string | null;
  version: string | null;
  critical?: boolean;
  changelog?: unknown;
}

/**
 * A GET with Node's own client (keep-alive, far cheaper than supertest for thousands of checks),
 * redirects not followed; the body parsed as JSON when there is one.
 */
export async function getJson(t: TestApp, path: string, authorization?: string): Promise<{ status: number; headers: Headers; body: any }> {
  const headers: Record<string, string> = { Accept: 'application/vnd.api+json, application/json' };
  if (authorization) headers.Authorization = authorization;
  const res = await fetch(`${t.baseUrl}${path}`, { headers, redirect: 'manual' });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/**
 * `GET /releases/actions/upgrade` (303 or 204). The offered release is the one whose artifact is
 * answered (its relationship), checked against the redirect on the way.
 */
export async function upgradeAction(t: TestApp, account: { id: string }, authorization: string | undefined, params: Record<string, string | undefined>): Promise<PolicyAnswer & { body: any }> {
  const res = await getJson(t, `/v1/accounts/${account.id}/releases/actions/upgrade?${qs(params)}`, authorization);
  if (res.status === 303) {
    if (res.body.data.links.redirect !== res.headers.get('location')) throw new Error('the 303 body does not name its Location');
    return { status: 303, id: res.body.data.relationships.release.data.id, version: res.body.meta.next, critical: res.body.meta.critical, changelog: res.body.meta.changelog, body: res.body };
  }
  return { status: res.status, id: null, version: null, body: res.body };
}

/** `GET /releases/:id/upgrade` (200 or 404). */
export async function upgradeFrom(t: TestApp, account: { id: string }, authorization: string | undefined, from: string, params: Record<string, string | undefined> = {}): Promise<PolicyAnswer & { body: any }> {
  const q = qs(params);
  const res = await getJson(t, `/v1/accounts/${account.id}/releases/${encodeURIComponent(from)}/upgrade${q ? `?${q}` : ''}`, authorization);
  if (res.status === 200) {
    if (res.body.data.attributes.version !== res.body.meta.next) throw new Error('meta.next is not the answered release');
    return { status: 200, id: res.body.data.id, version: res.body.meta.next, critical: res.body.meta.critical, changelog: res.body.meta.changelog, body: res.body };
  }
  return { status: res.status, id: null, version: null, body: res.body };
}

/** `GET /v3/releases/update` (200 or 204) or `/v3/releases/latest` (200 or 404). */
export async function v3(t: TestApp, route: 'update' | 'latest', authorization: string | undefined, params: Record<string, string | undefined>): Promise<PolicyAnswer & { body: any }> {
  const res = await getJson(t, `/v3/releases/${route}?${qs(params)}`, authorization);
  if (res.status === 200) return { status: 200, id: res.body.id, version: res.body.version, critical: res.body.critical, changelog: res.body.changelog, body: res.body };
  return { status: res.status, id: null, version: null, body: res.body };
}

/** The answer without what differs per request (signed links, counters): what two instances must agree on. */
export function comparable(a: PolicyAnswer & { body: any }): PolicyAnswer {
  return { status: a.status, id: a.id, version: a.version, critical: a.critical, changelog: a.changelog };
}
