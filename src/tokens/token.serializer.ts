import { iso, ResourceDefinition } from '../jsonapi/serializer';
import { accountPath } from '../jsonapi/links';
import type { Token } from './token.entity';

/** A token; `token` (the secret) is only present on the object returned by the create call. */
export type TokenView = Token & { secret?: string };

export const TokenSerializer: ResourceDefinition<TokenView> = {
  type: 'tokens',
  attributeNames: ['kind', 'name', 'token', 'expiry', 'created', 'updated'],
  attributes: (t) => ({
    kind: t.kind,
    name: t.name,
    token: t.secret,
    expiry: iso(t.expiry),
    created: iso(t.created),
    updated: iso(t.updated),
  }),
  relationships: (t) => ({
    account: { links: { related: accountPath(t.accountId) }, data: { type: 'accounts', id: t.accountId } },
    bearer: t.productId
      ? { links: { related: `${accountPath(t.accountId)}/products/${t.productId}` }, data: { type: 'products', id: t.productId } }
      : { links: { related: `${accountPath(t.accountId)}/users/${t.userId}` }, data: { type: 'users', id: t.userId! } },
  }),
  self: (t) => `${accountPath(t.accountId)}/tokens/${t.id}`,
};

/** Removes `token: null` from stored tokens: the secret is never shown again. */
export function withoutSecret<T extends { data: unknown }>(doc: T): T {
  const strip = (r: { attributes?: Record<string, unknown> }) => {
    if (r?.attributes && r.attributes.token == null) delete r.attributes.token;
  };
  if (Array.isArray(doc.data)) doc.data.forEach(strip);
  else strip(doc.data as { attributes?: Record<string, unknown> });
  return doc;
}
