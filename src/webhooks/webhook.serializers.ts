import { accountPath } from '../jsonapi/links';
import { iso, ResourceDefinition } from '../jsonapi/serializer';
import type { WebhookDelivery } from './webhook-delivery.entity';
import type { WebhookEndpoint } from './webhook-endpoint.entity';

/** An endpoint; `secret` is only set on the answers of a create or a rotation. */
export type WebhookEndpointView = WebhookEndpoint & { shownSecret?: string };

export const WebhookEndpointSerializer: ResourceDefinition<WebhookEndpointView> = {
  type: 'webhook-endpoints',
  attributeNames: ['url', 'events', 'enabled', 'secret', 'circuit', 'consecutiveFailures', 'nextProbe', 'created', 'updated'],
  attributes: (w) => ({
    url: w.url,
    events: w.events,
    enabled: w.enabled,
    secret: w.shownSecret,
    // read-only: the delivery workers' circuit breaker
    circuit: w.circuit,
    consecutiveFailures: w.consecutiveFailures,
    nextProbe: iso(w.nextProbe),
    created: iso(w.created),
    updated: iso(w.updated),
  }),
  relationships: (w) => ({
    account: { links: { related: accountPath(w.accountId) }, data: { type: 'accounts', id: w.accountId } },
    deliveries: { links: { related: `${accountPath(w.accountId)}/webhook-endpoints/${w.id}/webhook-deliveries` } },
  }),
  self: (w) => `${accountPath(w.accountId)}/webhook-endpoints/${w.id}`,
};

/** Removes `secret: null` from endpoints read back: the secret is shown at creation and rotation only. */
export function withoutSecret<T extends { data: unknown }>(doc: T): T {
  const strip = (r: { attributes?: Record<string, unknown> }) => {
    if (r?.attributes && r.attributes.secret == null) delete r.attributes.secret;
  };
  if (Array.isArray(doc.data)) doc.data.forEach(strip);
  else strip(doc.data as { attributes?: Record<string, unknown> });
  return doc;
}

export const WebhookDeliverySerializer: ResourceDefinition<WebhookDelivery> = {
  type: 'webhook-deliveries',
  attributeNames: ['event', 'status', 'attempts', 'lastStatusCode', 'lastError', 'nextAttempt', 'delivered', 'created', 'updated'],
  attributes: (d) => ({
    event: d.event,
    status: d.status,
    attempts: d.attempts,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    nextAttempt: iso(d.nextAttempt),
    delivered: iso(d.delivered),
    created: iso(d.created),
    updated: iso(d.updated),
  }),
  relationships: (d) => ({
    account: { links: { related: accountPath(d.accountId) }, data: { type: 'accounts', id: d.accountId } },
    endpoint: { links: { related: `${accountPath(d.accountId)}/webhook-endpoints/${d.endpointId}` }, data: { type: 'webhook-endpoints', id: d.endpointId } },
    eventRecord: { links: { related: `${accountPath(d.accountId)}/events/${d.eventId}` }, data: { type: 'events', id: d.eventId } },
  }),
  self: (d) => `${accountPath(d.accountId)}/webhook-deliveries/${d.id}`,
};
