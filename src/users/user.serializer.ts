import { iso, ResourceDefinition } from '../jsonapi/serializer';
import { accountPath } from '../jsonapi/links';
import type { User } from './user.entity';

export const UserSerializer: ResourceDefinition<User> = {
  type: 'users',
  attributeNames: ['email', 'firstName', 'lastName', 'fullName', 'role', 'created', 'updated'],
  attributes: (u) => ({
    email: u.email,
    firstName: u.firstName,
    lastName: u.lastName,
    fullName: [u.firstName, u.lastName].filter(Boolean).join(' ') || null,
    role: u.role,
    created: iso(u.created),
    updated: iso(u.updated),
  }),
  relationships: (u) => ({
    account: { links: { related: accountPath(u.accountId) }, data: { type: 'accounts', id: u.accountId } },
    licenses: { links: { related: `${accountPath(u.accountId)}/users/${u.id}/licenses` } },
    tokens: { links: { related: `${accountPath(u.accountId)}/users/${u.id}/tokens` } },
  }),
  self: (u) => `${accountPath(u.accountId)}/users/${u.id}`,
};
