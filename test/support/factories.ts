import { randomUUID } from 'node:crypto';
import type { TestApp } from './app';
import { JSONAPI, ROOT_TOKEN } from './app';

export interface TestAccount {
  id: string;
  slug: string;
  adminId: string;
  adminEmail: string;
  adminPassword: string;
  adminToken: string;
}

export function uniqueSlug(prefix = 'acct'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Creates an account with its first admin and returns an admin token for it. */
export async function createAccount(t: TestApp, slug = uniqueSlug()): Promise<TestAccount> {
  const adminEmail = `admin@${slug}.test`;
  const adminPassword = 'correct-horse-battery';
  const res = await t.http
    .post('/v1/accounts')
    .set('Authorization', `Bearer ${ROOT_TOKEN}`)
    .set('Content-Type', JSONAPI)
    .send({
      data: {
        type: 'accounts',
        attributes: { name: `Account ${slug}`, slug },
        relationships: { admins: { data: [{ type: 'users', attributes: { email: adminEmail, password: adminPassword } }] } },
      },
    });
  if (res.status !== 201) throw new Error(`account creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  const tokenRes = await t.http.post(`/v1/accounts/${slug}/tokens`).auth(adminEmail, adminPassword);
  if (tokenRes.status !== 201) throw new Error(`token creation failed: ${tokenRes.status} ${JSON.stringify(tokenRes.body)}`);
  return {
    id: res.body.data.id,
    slug,
    adminId: res.body.data.relationships.admins.data[0].id,
    adminEmail,
    adminPassword,
    adminToken: tokenRes.body.data.attributes.token,
  };
}

/** Creates a user (as the account's admin) and a user token for it. */
export async function createUser(
  t: TestApp,
  account: TestAccount,
  attributes: Record<string, unknown> = {},
): Promise<{ id: string; email: string; password: string; token: string }> {
  const email = (attributes.email as string) ?? `user-${randomUUID().slice(0, 8)}@example.test`;
  const password = (attributes.password as string) ?? 'user-password-1';
  const res = await t.http
    .post(`/v1/accounts/${account.id}/users`)
    .set('Authorization', `Bearer ${account.adminToken}`)
    .set('Content-Type', JSONAPI)
    .send({ data: { type: 'users', attributes: { ...attributes, email, password } } });
  if (res.status !== 201) throw new Error(`user creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  const tokenRes = await t.http.post(`/v1/accounts/${account.id}/tokens`).auth(email, password);
  if (tokenRes.status !== 201) throw new Error(`user token failed: ${tokenRes.status} ${JSON.stringify(tokenRes.body)}`);
  return { id: res.body.data.id, email, password, token: tokenRes.body.data.attributes.token };
}

/** A JSON:API request helper bound to one credential. */
export function api(t: TestApp, authorization?: string) {
  const withAuth = <R extends { set(k: string, v: string): R }>(r: R): R => (authorization ? r.set('Authorization', authorization) : r);
  return {
    get: (url: string) => withAuth(t.http.get(url).set('Accept', JSONAPI)),
    delete: (url: string) => withAuth(t.http.delete(url).set('Accept', JSONAPI)),
    post: (url: string, body?: unknown) => withAuth(t.http.post(url).set('Content-Type', JSONAPI).set('Accept', JSONAPI)).send(body as object),
    patch: (url: string, body?: unknown) => withAuth(t.http.patch(url).set('Content-Type', JSONAPI).set('Accept', JSONAPI)).send(body as object),
  };
}

export const bearer = (token: string) => `Bearer ${token}`;
