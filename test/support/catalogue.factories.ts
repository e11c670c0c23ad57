import { randomUUID } from 'node:crypto';
import type { TestApp } from './app';
import { api, bearer, TestAccount } from './factories';

/** Products, entitlements, licenses and product tokens created through the HTTP API as the account's admin. */

export interface TestProduct {
  id: string;
  name: string;
  code: string | null;
  distributionStrategy: string;
}

export interface TestEntitlement {
  id: string;
  name: string;
  code: string;
}

export interface TestLicense {
  id: string;
  key: string;
  productId: string;
  userId: string | null;
}

function fail(what: string, res: { status: number; body: unknown }): never {
  throw new Error(`${what} failed: ${res.status} ${JSON.stringify(res.body)}`);
}

/** A product (LICENSED unless `attrs.distributionStrategy` says otherwise). */
export async function createProduct(t: TestApp, account: TestAccount, attrs: Record<string, unknown> = {}): Promise<TestProduct> {
  const res = await api(t, bearer(account.adminToken)).post(`/v1/accounts/${account.id}/products`, {
    data: { type: 'products', attributes: { name: `Product ${randomUUID().slice(0, 8)}`, ...attrs } },
  });
  if (res.status !== 201) fail('product creation', res);
  const a = res.body.data.attributes;
  return { id: res.body.data.id, name: a.name, code: a.code, distributionStrategy: a.distributionStrategy };
}

/** An entitlement with a unique code unless `attrs.code` is given. */
export async function createEntitlement(t: TestApp, account: TestAccount, attrs: Record<string, unknown> = {}): Promise<TestEntitlement> {
  const suffix = randomUUID().slice(0, 8);
  const res = await api(t, bearer(account.adminToken)).post(`/v1/accounts/${account.id}/entitlements`, {
    data: { type: 'entitlements', attributes: { name: `Entitlement ${suffix}`, code: `ENT_${suffix.toUpperCase()}`, ...attrs } },
  });
  if (res.status !== 201) fail('entitlement creation', res);
  const a = res.body.data.attributes;
  return { id: res.body.data.id, name: a.name, code: a.code };
}

/** A license of `productId`, optionally owned by `userId` and holding `entitlementIds`; returns its key. */
export async function createLicense(
  t: TestApp,
  account: TestAccount,
  productId: string,
  options: { attrs?: Record<string, unknown>; userId?: string; entitlementIds?: string[] } = {},
): Promise<TestLicense> {
  const relationships: Record<string, unknown> = { product: { data: { type: 'products', id: productId } } };
  if (options.userId) relationships.user = { data: { type: 'users', id: options.userId } };
  if (options.entitlementIds?.length) {
    relationships.entitlements = { data: options.entitlementIds.map((id) => ({ type: 'entitlements', id })) };
  }
  const res = await api(t, bearer(account.adminToken)).post(`/v1/accounts/${account.id}/licenses`, {
    data: { type: 'licenses', attributes: { ...(options.attrs ?? {}) }, relationships },
  });
  if (res.status !== 201) fail('license creation', res);
  return { id: res.body.data.id, key: res.body.data.attributes.key, productId, userId: options.userId ?? null };
}

/** A product token for `productId` (issued by the admin); `token` is the secret. */
export async function createProductToken(t: TestApp, account: TestAccount, productId: string): Promise<{ id: string; token: string }> {
  const res = await api(t, bearer(account.adminToken)).post(`/v1/accounts/${account.id}/products/${productId}/tokens`);
  if (res.status !== 201) fail('product token creation', res);
  return { id: res.body.data.id, token: res.body.data.attributes.token };
}

/** `Authorization: License <key>`. */
export const licenseAuth = (key: string) => `License ${key}`;
