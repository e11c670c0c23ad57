import { accountPath } from '../jsonapi/links';
import { iso, ResourceDefinition } from '../jsonapi/serializer';
import type { EventRecord } from './event.entity';

export const EventSerializer: ResourceDefinition<EventRecord> = {
  type: 'events',
  attributeNames: ['event', 'created', 'payload'],
  attributes: (e) => ({ event: e.event, created: iso(e.created), payload: e.payload }),
  relationships: (e) => ({
    account: { links: { related: accountPath(e.accountId) }, data: { type: 'accounts', id: e.accountId } },
    resource: { links: { related: `${accountPath(e.accountId)}/${e.resourceType}/${e.resourceId}` }, data: { type: e.resourceType, id: e.resourceId } },
  }),
  self: (e) => `${accountPath(e.accountId)}/events/${e.id}`,
};
