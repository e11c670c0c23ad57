import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhook deliveries are picked from `webhook_deliveries` itself (no longer from pg-boss jobs),
 * fairly per endpoint, with a circuit breaker per endpoint:
 * - an endpoint keeps its circuit (`closed`, `open`, `half-open`), its consecutive failed attempts,
 *   when the next probe of an open circuit is due, and when a delivery of it was last handed out
 *   (the round-robin order);
 * - a delivery being attempted carries a lease (token and end); the lease outlives the attempt's
 *   timeout, so an expired lease means its worker died and the delivery is due again.
 * Pending deliveries keep their `next_attempt` and are picked up as they are. `job_token` is no
 * longer written; pg-boss jobs made by an older version find no matching token and do nothing.
 */
export class WebhookFairness1767100000000 implements MigrationInterface {
  name = 'WebhookFairness1767100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE webhook_endpoints
        ADD COLUMN circuit varchar(16) NOT NULL DEFAULT 'closed' CHECK (circuit IN ('closed', 'open', 'half-open')),
        ADD COLUMN consecutive_failures integer NOT NULL DEFAULT 0,
        ADD COLUMN next_probe timestamptz,
        ADD COLUMN last_dispatched timestamptz`);
    await q.query('ALTER TABLE webhook_deliveries ADD COLUMN lease_token uuid, ADD COLUMN lease_until timestamptz');
    // an endpoint's due deliveries, oldest first (the pick), and which endpoints have any (the skip scan)
    await q.query(`CREATE INDEX webhook_deliveries_due ON webhook_deliveries (endpoint_id, next_attempt, created, id) WHERE status = 'PENDING'`);
    // an endpoint's deliveries in flight (its limit), without reading its whole backlog
    await q.query('CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (endpoint_id) WHERE lease_token IS NOT NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX webhook_deliveries_leased');
    await q.query('DROP INDEX webhook_deliveries_due');
    await q.query('ALTER TABLE webhook_deliveries DROP COLUMN lease_token, DROP COLUMN lease_until');
    await q.query('ALTER TABLE webhook_endpoints DROP COLUMN circuit, DROP COLUMN consecutive_failures, DROP COLUMN next_probe, DROP COLUMN last_dispatched');
  }
}
