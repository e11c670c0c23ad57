import { MigrationInterface, QueryRunner } from 'typeorm';

/** Rows named per payload at most (PostgreSQL caps a payload at 8,000 bytes; an id and its comma are 37). */
const IDS_PER_PAYLOAD = 100;

/** The tables whose changes name release rows, with what the payload names. */
const TABLES = ['releases', 'release_constraints', 'artifacts'];

/**
 * Change notifications that name the changed rows, so that every instance's catalogue puts them in
 * place instead of reading a whole product again (src/catalogue, docs/architecture.md). Statement
 * triggers with transition tables replace the row triggers of CatalogueNotifications on these
 * three tables:
 * - releases: `R:<account>:<product>:<id>,<id>,...` per product and statement, for the rows whose
 *   columns changed beyond the counters (downloads, upgrades: the counters have their own channel);
 *   a statement that changes more than IDS_PER_PAYLOAD releases of a product sends
 *   `r:<account>:<product>` instead (the product is read again whole when next asked for);
 * - release_constraints and artifacts: `X:<account>:<release>,<release>,...` (those releases'
 *   constraints or file changed), in payloads of IDS_PER_PAYLOAD.
 * Accounts, products, licenses and license entitlements keep their row triggers; TRUNCATE still sends `*`.
 */
export class CatalogueRowNotifications1766000000000 implements MigrationInterface {
  name = 'CatalogueRowNotifications1766000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION shipgate_catalogue_send(prefix text, ids text[], whole text) RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        n int := coalesce(array_length(ids, 1), 0);
        i int := 1;
      BEGIN
        IF n = 0 THEN RETURN; END IF;
        IF whole IS NOT NULL AND n > ${IDS_PER_PAYLOAD} THEN
          PERFORM pg_notify('shipgate_catalogue', whole);
          RETURN;
        END IF;
        WHILE i <= n LOOP
          PERFORM pg_notify('shipgate_catalogue', prefix || array_to_string(ids[i:i + ${IDS_PER_PAYLOAD - 1}], ','));
          i := i + ${IDS_PER_PAYLOAD};
        END LOOP;
      END $$`);
    await q.query(`
      CREATE FUNCTION shipgate_catalogue_releases() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        g record;
      BEGIN
        IF TG_OP = 'INSERT' THEN
          FOR g IN SELECT account_id, product_id, array_agg(id::text ORDER BY id) AS ids FROM new_rows GROUP BY account_id, product_id LOOP
            PERFORM shipgate_catalogue_send('R:' || g.account_id || ':' || g.product_id || ':', g.ids, 'r:' || g.account_id || ':' || g.product_id);
          END LOOP;
        ELSIF TG_OP = 'DELETE' THEN
          FOR g IN SELECT account_id, product_id, array_agg(id::text ORDER BY id) AS ids FROM old_rows GROUP BY account_id, product_id LOOP
            PERFORM shipgate_catalogue_send('R:' || g.account_id || ':' || g.product_id || ':', g.ids, 'r:' || g.account_id || ':' || g.product_id);
          END LOOP;
        ELSE
          FOR g IN SELECT n.account_id, n.product_id, array_agg(n.id::text ORDER BY n.id) AS ids
                     FROM new_rows n JOIN old_rows o ON o.id = n.id
                    WHERE (to_jsonb(o) - 'downloads' - 'upgrades' - 'updated') IS DISTINCT FROM (to_jsonb(n) - 'downloads' - 'upgrades' - 'updated')
                    GROUP BY n.account_id, n.product_id LOOP
            PERFORM shipgate_catalogue_send('R:' || g.account_id || ':' || g.product_id || ':', g.ids, 'r:' || g.account_id || ':' || g.product_id);
          END LOOP;
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION shipgate_catalogue_release_parts() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        g record;
      BEGIN
        IF TG_OP = 'INSERT' THEN
          FOR g IN SELECT account_id, array_agg(DISTINCT release_id::text) AS ids FROM new_rows GROUP BY account_id LOOP
            PERFORM shipgate_catalogue_send('X:' || g.account_id || ':', g.ids, NULL);
          END LOOP;
        ELSIF TG_OP = 'DELETE' THEN
          FOR g IN SELECT account_id, array_agg(DISTINCT release_id::text) AS ids FROM old_rows GROUP BY account_id LOOP
            PERFORM shipgate_catalogue_send('X:' || g.account_id || ':', g.ids, NULL);
          END LOOP;
        ELSE
          FOR g IN SELECT account_id, array_agg(DISTINCT release_id::text) AS ids
                     FROM (SELECT account_id, release_id FROM new_rows UNION SELECT account_id, release_id FROM old_rows) c GROUP BY account_id LOOP
            PERFORM shipgate_catalogue_send('X:' || g.account_id || ':', g.ids, NULL);
          END LOOP;
        END IF;
        RETURN NULL;
      END $$`);
    for (const table of TABLES) {
      const fn = table === 'releases' ? 'shipgate_catalogue_releases' : 'shipgate_catalogue_release_parts';
      await q.query(`DROP TRIGGER ${table}_catalogue ON ${table}`);
      await q.query(`CREATE TRIGGER ${table}_catalogue_insert AFTER INSERT ON ${table} REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`);
      await q.query(
        `CREATE TRIGGER ${table}_catalogue_update AFTER UPDATE ON ${table} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
      );
      await q.query(`CREATE TRIGGER ${table}_catalogue_delete AFTER DELETE ON ${table} REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of TABLES) {
      for (const op of ['insert', 'update', 'delete']) await q.query(`DROP TRIGGER IF EXISTS ${table}_catalogue_${op} ON ${table}`);
      await q.query(`CREATE TRIGGER ${table}_catalogue AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION shipgate_catalogue_notify()`);
    }
    await q.query('DROP FUNCTION IF EXISTS shipgate_catalogue_releases()');
    await q.query('DROP FUNCTION IF EXISTS shipgate_catalogue_release_parts()');
    await q.query('DROP FUNCTION IF EXISTS shipgate_catalogue_send(text, text[], text)');
  }
}
