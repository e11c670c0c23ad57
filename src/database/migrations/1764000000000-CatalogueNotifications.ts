import { MigrationInterface, QueryRunner } from 'typeorm';

/** Tables whose rows the in-memory catalogue keeps (src/catalogue). */
const WATCHED = ['accounts', 'products', 'licenses', 'license_entitlements', 'releases', 'release_constraints', 'artifacts'];

/**
 * The hot path's catalogue is told about every change, whichever instance (or psql session) made
 * it: row triggers send `pg_notify('shipgate_catalogue', ...)` at commit. Payloads name only ids:
 * `a:<account>`, `p:<account>:<product>`, `l:<account>:<license>`, `r:<account>:<product>` (a
 * release line changed), `x:<account>:<release>` (a release's constraint or artifact changed), and
 * `*` after a TRUNCATE. PostgreSQL folds identical payloads of one transaction into one message,
 * so a bulk insert of releases sends one `r:` per product. Counter-only updates of releases
 * (downloads, upgrades) send nothing: the counters have their own channel.
 *
 * Also the release line index without filetype, which update checks that name no filetype use.
 */
export class CatalogueNotifications1764000000000 implements MigrationInterface {
  name = 'CatalogueNotifications1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE INDEX releases_line ON releases
        (product_id, platform, semver_major, semver_minor, semver_patch, semver_is_release, semver_pre_key, semver_build_key, created, id)`);
    await q.query(`
      CREATE FUNCTION shipgate_catalogue_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        rec record;
        payload text;
      BEGIN
        IF TG_OP = 'DELETE' THEN rec := OLD; ELSE rec := NEW; END IF;
        IF TG_TABLE_NAME = 'accounts' THEN
          payload := 'a:' || rec.id;
        ELSIF TG_TABLE_NAME = 'products' THEN
          payload := 'p:' || rec.account_id || ':' || rec.id;
        ELSIF TG_TABLE_NAME = 'licenses' THEN
          payload := 'l:' || rec.account_id || ':' || rec.id;
        ELSIF TG_TABLE_NAME = 'license_entitlements' THEN
          payload := 'l:' || rec.account_id || ':' || rec.license_id;
        ELSIF TG_TABLE_NAME = 'releases' THEN
          IF TG_OP = 'UPDATE' AND (to_jsonb(OLD) - 'downloads' - 'upgrades' - 'updated')
                                 = (to_jsonb(NEW) - 'downloads' - 'upgrades' - 'updated') THEN
            RETURN NULL;
          END IF;
          payload := 'r:' || rec.account_id || ':' || rec.product_id;
        ELSE
          payload := 'x:' || rec.account_id || ':' || rec.release_id;
        END IF;
        PERFORM pg_notify('shipgate_catalogue', payload);
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION shipgate_catalogue_notify_all() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('shipgate_catalogue', '*');
        RETURN NULL;
      END $$`);
    for (const table of WATCHED) {
      await q.query(`CREATE TRIGGER ${table}_catalogue AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION shipgate_catalogue_notify()`);
      await q.query(`CREATE TRIGGER ${table}_catalogue_truncate AFTER TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION shipgate_catalogue_notify_all()`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of WATCHED) {
      await q.query(`DROP TRIGGER IF EXISTS ${table}_catalogue ON ${table}`);
      await q.query(`DROP TRIGGER IF EXISTS ${table}_catalogue_truncate ON ${table}`);
    }
    await q.query(`DROP FUNCTION IF EXISTS shipgate_catalogue_notify()`);
    await q.query(`DROP FUNCTION IF EXISTS shipgate_catalogue_notify_all()`);
    await q.query(`DROP INDEX IF EXISTS releases_line`);
  }
}
