import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Events (one row per change or counted use, written in the change's transaction), webhook
 * endpoints and their deliveries (the delivery rows are the outbox; their jobs live in pg-boss's
 * own schema, created by pg-boss itself), and the analytics rollups: the last version each
 * install reported (one row per license, user or installId and product), how many installs were
 * last seen on each day with each version, and daily counts per version.
 */
export class EventsWebhooksAnalytics1765200000000 implements MigrationInterface {
  name = 'EventsWebhooksAnalytics1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        event varchar(64) NOT NULL,
        resource_type varchar(64) NOT NULL,
        resource_id uuid NOT NULL,
        payload jsonb NOT NULL,
        created timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query('CREATE INDEX events_account_created ON events (account_id, created, id)');
    await q.query('CREATE INDEX events_account_resource ON events (account_id, resource_id, created, id)');
    await q.query('CREATE INDEX events_account_event ON events (account_id, event, created, id)');
    await q.query('CREATE INDEX events_created ON events (created)');

    await q.query(`
      CREATE TABLE webhook_endpoints (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        url varchar(2048) NOT NULL,
        events jsonb NOT NULL DEFAULT '["*"]',
        enabled boolean NOT NULL DEFAULT true,
        secret varchar(255) NOT NULL,
        created timestamptz NOT NULL DEFAULT now(),
        updated timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX webhook_endpoints_account ON webhook_endpoints (account_id, created, id)');

    await q.query(`
      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
        event_id uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
        event varchar(64) NOT NULL,
        status varchar(16) NOT NULL DEFAULT 'PENDING',
        attempts integer NOT NULL DEFAULT 0,
        last_status_code integer,
        last_error varchar(500),
        next_attempt timestamptz,
        delivered timestamptz,
        job_token uuid,
        created timestamptz NOT NULL DEFAULT clock_timestamp(),
        updated timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query('CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (account_id, endpoint_id, created, id)');
    await q.query('CREATE INDEX webhook_deliveries_account ON webhook_deliveries (account_id, created, id)');
    await q.query('CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id)');

    await q.query(`
      CREATE TABLE analytics_installs (
        account_id uuid NOT NULL,
        product_id uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
        identity varchar(80) NOT NULL,
        version varchar(255) NOT NULL,
        platform varchar(255) NOT NULL,
        channel varchar(16) NOT NULL,
        last_seen timestamptz NOT NULL,
        PRIMARY KEY (product_id, identity)
      )`);
    // how many installs have their last check on each day, per version (kept in step with
    // analytics_installs by the recorder's flush): the versions-in-use answer reads a month of
    // these buckets instead of every install
    await q.query(`
      CREATE TABLE analytics_last_seen (
        account_id uuid NOT NULL,
        product_id uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
        day date NOT NULL,
        version varchar(255) NOT NULL,
        platform varchar(255) NOT NULL,
        channel varchar(16) NOT NULL,
        installs integer NOT NULL,
        PRIMARY KEY (product_id, day, version, platform, channel)
      )`);

    await q.query(`
      CREATE TABLE analytics_daily (
        account_id uuid NOT NULL,
        product_id uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
        day date NOT NULL,
        version varchar(255) NOT NULL,
        platform varchar(255) NOT NULL,
        channel varchar(16) NOT NULL,
        checks bigint NOT NULL DEFAULT 0,
        downloads bigint NOT NULL DEFAULT 0,
        upgrades bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (product_id, day, version, platform, channel)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE analytics_daily');
    await q.query('DROP TABLE analytics_last_seen');
    await q.query('DROP TABLE analytics_installs');
    await q.query('DROP TABLE webhook_deliveries');
    await q.query('DROP TABLE webhook_endpoints');
    await q.query('DROP TABLE events');
  }
}
