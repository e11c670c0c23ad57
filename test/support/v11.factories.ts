import type { TestApp } from './app';
import { api, bearer, TestAccount } from './factories';

/** API 1.1 (many artifacts per release) for e2e tests, in the style of artifacts-v11.e2e-spec.ts. */

export const V11 = { 'Keygen-Version': '1.1' };

/** A JSON:API client speaking API 1.1 (the Keygen-Version header on every request). */
export function v11Client(t: TestApp, authorization?: string) {
  const base = api(t, authorization);
  return {
    get: (url: string) => base.get(url).set(V11),
    post: (url: string, body?: unknown) => base.post(url, body).set(V11),
    patch: (url: string, body?: unknown) => base.patch(url, body).set(V11),
    delete: (url: string) => base.delete(url).set(V11),
  };
}

export interface V11Release {
  id: string;
  attributes: Record<string, unknown>;
}

/** `POST /releases` through 1.1 (PUBLISHED unless said otherwise), as the account's admin; throws unless 201. */
export async function createReleaseV11(t: TestApp, account: TestAccount, productId: string, version: string, attributes: Record<string, unknown> = {}): Promise<V11Release> {
  const res = await v11Client(t, bearer(account.adminToken)).post(`/v1/accounts/${account.id}/releases`, {
    data: {
      type: 'releases',
      attributes: { version, channel: 'stable', status: 'PUBLISHED', ...attributes },
      relationships: { product: { data: { type: 'products', id: productId } } },
    },
  });
  if (res.status !== 201) throw new Error(`1.1 release creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data;
}

/** `POST /artifacts` with `Prefer: no-redirect` (as electron-builder's publisher): the WAITING artifact's id and its upload URL. */
export async function createArtifactV11(t: TestApp, account: TestAccount, releaseId: string, attributes: Record<string, unknown>): Promise<{ id: string; uploadUrl: string }> {
  const res = await v11Client(t, bearer(account.adminToken))
    .post(`/v1/accounts/${account.id}/artifacts`, { data: { type: 'artifacts', attributes, relationships: { release: { data: { type: 'releases', id: releaseId } } } } })
    .set('Prefer', 'no-redirect');
  if (res.status !== 201 || res.body.data.attributes.status !== 'WAITING') throw new Error(`artifact creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.data.id, uploadUrl: res.body.data.links.redirect };
}

/** PUTs the bytes to a local upload URL (on the test server: PUBLIC_URL may be another port) with no credential. */
export async function putToUploadUrl(t: TestApp, uploadUrl: string, bytes: Buffer): Promise<number> {
  const url = new URL(uploadUrl);
  const res = await t.http.put(url.pathname + url.search).set('Content-Type', 'application/octet-stream').send(bytes);
  return res.status;
}

/** An artifact created and its bytes uploaded (throws unless the PUT answers 200); returns its id. */
export async function uploadArtifactV11(t: TestApp, account: TestAccount, releaseId: string, attributes: Record<string, unknown>, bytes: Buffer): Promise<string> {
  const { id, uploadUrl } = await createArtifactV11(t, account, releaseId, attributes);
  const status = await putToUploadUrl(t, uploadUrl, bytes);
  if (status !== 200) throw new Error(`artifact upload failed: ${status}`);
  return id;
}

/** `POST /artifacts/:id/constraints`: the artifact requires these entitlements besides its release's. */
export async function constrainArtifact(t: TestApp, account: TestAccount, artifactId: string, entitlementIds: string[]): Promise<string[]> {
  const res = await v11Client(t, bearer(account.adminToken)).post(`/v1/accounts/${account.id}/artifacts/${artifactId}/constraints`, {
    data: entitlementIds.map((id) => ({ type: 'constraints', relationships: { entitlement: { data: { type: 'entitlements', id } } } })),
  });
  if (res.status !== 200) throw new Error(`artifact constraint failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.map((c: { id: string }) => c.id);
}

/** `DELETE /artifacts/:id` (yanks it); throws unless 204. */
export async function yankArtifact(t: TestApp, account: TestAccount, artifactId: string): Promise<void> {
  const res = await v11Client(t, bearer(account.adminToken)).delete(`/v1/accounts/${account.id}/artifacts/${artifactId}`);
  if (res.status !== 204) throw new Error(`artifact yank failed: ${res.status} ${JSON.stringify(res.body)}`);
}
