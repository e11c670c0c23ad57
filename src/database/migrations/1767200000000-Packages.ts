import { MigrationInterface, QueryRunner } from 'typeorm';

/** The artifact_offers view of ReleaseArtifacts1767000000000, with `package_id` (a column of every Release row) appended. */
const HEAD = ['id', 'account_id', 'product_id', 'name', 'description', 'version', 'semver_major', 'semver_minor', 'semver_patch', 'semver_prerelease', 'semver_build', 'semver_is_release', 'semver_pre_key', 'semver_build_key', 'channel'];
const TAIL = ['metadata', 'status', 'critical', 'rollout_percentage', 'downloads', 'upgrades', 'yanked', 'created', 'updated', 'multi_artifact', 'tag'];

function offersView(extra: string): string {
  return `SELECT ${HEAD.map((c) => `r.${c}`).join(', ')}, CAST(a.platform || COALESCE('/' || a.arch, '') AS varchar(255)) AS platform, a.filename, a.filetype, a.filesize, a.signature,
               CAST(COALESCE(a.checksum, a.sha256) AS text) AS checksum, ${TAIL.map((c) => `r.${c}`).join(', ')}, a.id AS artifact_id${extra}
          FROM releases r JOIN artifacts a ON a.release_id = r.id AND a.account_id = r.account_id AND a.status = 'UPLOADED'
         WHERE r.multi_artifact`;
}

/**
 * Packages (docs/packages.md): installable packages of a product, each served to a package
 * manager (pypi, npm, raw, tauri) by the engines.
 * - packages: `key` unique per account (the name package managers use, e.g. `acme-sdk`, `@acme/cli`);
 *   a change notifies the catalogue (`k:<account>:<package>`), which keeps an account's packages;
 * - releases.package_id: a release belongs to at most one package; a 1.1 version is unique per
 *   product and package (two packages of one product may both have a 1.2.0);
 * - artifacts.manifest: what the server read from the file once, at upload (an npm tarball's
 *   package.json), so that engines never open files at request time.
 */
export class Packages1767200000000 implements MigrationInterface {
  name = 'Packages1767200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE packages (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        product_id uuid NOT NULL REFERENCES products(id) ON DELETE CASCADE,
        name varchar(255) NOT NULL,
        key varchar(255) NOT NULL,
        engine varchar(16),
        metadata jsonb NOT NULL DEFAULT '{}',
        created timestamptz NOT NULL DEFAULT now(),
        updated timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT packages_key_unique UNIQUE (account_id, key),
        CONSTRAINT packages_engine_check CHECK (engine IS NULL OR engine IN ('pypi', 'npm', 'raw', 'tauri'))
      )`);
    await q.query(`CREATE INDEX packages_product ON packages (product_id)`);
    // keys are compared as pip compares names (PEP 503): acme_sdk and Acme.SDK are acme-sdk
    await q.query(`CREATE UNIQUE INDEX packages_key_normal_unique ON packages (account_id, lower(regexp_replace(key, '[-_.]+', '-', 'g')))`);
    await q.query(`ALTER TABLE releases ADD COLUMN package_id uuid REFERENCES packages(id) ON DELETE SET NULL`);
    await q.query(`CREATE INDEX releases_package ON releases (package_id) WHERE package_id IS NOT NULL`);
    await q.query(`DROP INDEX releases_multi_version_unique`);
    await q.query(`CREATE UNIQUE INDEX releases_multi_version_unique ON releases (product_id, version, package_id) NULLS NOT DISTINCT WHERE multi_artifact`);
    // made again after it: PostgreSQL checks unique indexes in the order they were made, and a
    // re-published version with its tag must still be told VERSION_TAKEN (the CLI reuses the release on it)
    await q.query(`DROP INDEX releases_tag_unique`);
    await q.query(`CREATE UNIQUE INDEX releases_tag_unique ON releases (product_id, tag) WHERE tag IS NOT NULL`);
    await q.query(`ALTER TABLE artifacts ADD COLUMN manifest jsonb`);
    await q.query(`CREATE OR REPLACE VIEW artifact_offers AS ${offersView(', r.package_id')}`);
    await q.query(`
      CREATE FUNCTION shipgate_catalogue_packages() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        rec record;
      BEGIN
        IF TG_OP = 'DELETE' THEN rec := OLD; ELSE rec := NEW; END IF;
        PERFORM pg_notify('shipgate_catalogue', 'k:' || rec.account_id || ':' || rec.id);
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER packages_catalogue AFTER INSERT OR UPDATE OR DELETE ON packages FOR EACH ROW EXECUTE FUNCTION shipgate_catalogue_packages()`);
    await q.query(`CREATE TRIGGER packages_catalogue_truncate AFTER TRUNCATE ON packages FOR EACH STATEMENT EXECUTE FUNCTION shipgate_catalogue_notify_all()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS packages_catalogue_truncate ON packages`);
    await q.query(`DROP TRIGGER IF EXISTS packages_catalogue ON packages`);
    await q.query(`DROP FUNCTION IF EXISTS shipgate_catalogue_packages()`);
    await q.query(`DROP VIEW artifact_offers`);
    await q.query(`CREATE VIEW artifact_offers AS ${offersView('')}`);
    await q.query(`ALTER TABLE artifacts DROP COLUMN manifest`);
    await q.query(`DROP INDEX IF EXISTS releases_multi_version_unique`);
    await q.query(`DELETE FROM releases r USING releases o WHERE r.multi_artifact AND o.multi_artifact AND r.product_id = o.product_id AND r.version = o.version AND r.id > o.id`);
    await q.query(`CREATE UNIQUE INDEX releases_multi_version_unique ON releases (product_id, version) WHERE multi_artifact`);
    await q.query(`DROP INDEX IF EXISTS releases_package`);
    await q.query(`ALTER TABLE releases DROP COLUMN package_id`);
    await q.query(`DROP TABLE IF EXISTS packages`);
  }
}
