import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Adoption over time (GET .../analytics/adoption):
 * - analytics_day_installs: per UTC day, the installs (licenses, users, installIds) that checked
 *   for updates that day, by the version, platform and channel of their last check of the day.
 *   The analytics flush keeps it in step with analytics_installs: an install whose previous check
 *   was on an earlier day adds 1 to its new day; one that changed version, platform or channel
 *   within a day moves from the old row of that day to the new one. Nothing is backfilled: the
 *   rows of analytics_last_seen only say on which day each install checked last, which is no
 *   count of the installs of earlier days, so the series starts with this migration.
 * - release_publications: when each release was PUBLISHED (from `started` to `ended`, null while
 *   it still is), kept by triggers on releases whatever writes the row (the API's status machine,
 *   an import in SQL): a release inserted as PUBLISHED was published when created; a change of
 *   status into PUBLISHED opens a span, out of it (yank, draft, a 1.0 release losing its file)
 *   closes it. Existing releases are backfilled from the last `release.published` event still
 *   kept (else their creation) up to their yank. A deleted release takes its spans with it.
 */
export class AdoptionHistory1767400000000 implements MigrationInterface {
  name = 'AdoptionHistory1767400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE analytics_day_installs (
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
      CREATE TABLE release_publications (
        release_id uuid NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
        account_id uuid NOT NULL,
        product_id uuid NOT NULL,
        started timestamptz NOT NULL,
        ended timestamptz,
        PRIMARY KEY (release_id, started),
        CHECK (ended IS NULL OR ended >= started)
      )`);
    // the spans of a product that reach into a window (the adoption series reads these)
    await q.query('CREATE INDEX release_publications_product ON release_publications (product_id, started)');
    // at most one open span per release
    await q.query('CREATE UNIQUE INDEX release_publications_open ON release_publications (release_id) WHERE ended IS NULL');

    await q.query(`
      INSERT INTO release_publications (release_id, account_id, product_id, started, ended)
      SELECT s.id, s.account_id, s.product_id, s.started, CASE WHEN s.status = 'YANKED' THEN greatest(s.started, s.until) END
        FROM (SELECT r.id, r.account_id, r.product_id, r.status, coalesce(r.yanked, r.updated) AS until,
                     least(coalesce((SELECT max(e.created) FROM events e
                                      WHERE e.account_id = r.account_id AND e.resource_id = r.id AND e.event = 'release.published'
                                        AND (r.status = 'PUBLISHED' OR e.created <= coalesce(r.yanked, r.updated))),
                                    r.created), now()) AS started
                FROM releases r WHERE r.status IN ('PUBLISHED', 'YANKED')) s`);

    // inserts: one statement for the rows of a whole import
    await q.query(`
      CREATE FUNCTION shipgate_release_publications_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO release_publications (release_id, account_id, product_id, started)
        SELECT n.id, n.account_id, n.product_id, least(n.created, now()) FROM new_rows n WHERE n.status = 'PUBLISHED';
        RETURN NULL;
      END $$`);
    await q.query(
      `CREATE TRIGGER releases_publications_insert AFTER INSERT ON releases REFERENCING NEW TABLE AS new_rows
         FOR EACH STATEMENT EXECUTE FUNCTION shipgate_release_publications_insert()`,
    );
    // status changes: a row trigger that fires only when the status column is set and differs
    // (the counters' flushes, which write downloads and upgrades, never reach it)
    await q.query(`
      CREATE FUNCTION shipgate_release_publications_status() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.status = 'PUBLISHED' THEN
          UPDATE release_publications SET ended = now() WHERE release_id = NEW.id AND ended IS NULL;
        END IF;
        IF NEW.status = 'PUBLISHED' THEN
          -- published again in the transaction that ended the span: the span goes on
          INSERT INTO release_publications (release_id, account_id, product_id, started) VALUES (NEW.id, NEW.account_id, NEW.product_id, now())
          ON CONFLICT (release_id, started) DO UPDATE SET ended = NULL;
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(
      `CREATE TRIGGER releases_publications_status AFTER UPDATE OF status ON releases
         FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION shipgate_release_publications_status()`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER releases_publications_status ON releases');
    await q.query('DROP TRIGGER releases_publications_insert ON releases');
    await q.query('DROP FUNCTION shipgate_release_publications_status()');
    await q.query('DROP FUNCTION shipgate_release_publications_insert()');
    await q.query('DROP TABLE release_publications');
    await q.query('DROP TABLE analytics_day_installs');
  }
}
