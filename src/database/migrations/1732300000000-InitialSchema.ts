import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The whole first schema. Semver parts live in their own columns so that precedence ordering
 * (sort=version, upgrades) happens in SQL: `semver_pre_key` holds the prerelease identifiers
 * encoded so that byte order ("C" collation) equals semver order, `semver_is_release` puts a
 * release above its prereleases, and `semver_build_key` breaks ties.
 */
export class InitialSchema1732300000000 implements MigrationInterface {
  name = 'InitialSchema1732300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE accounts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name varchar(255) NOT NULL,
        slug varchar(255) NOT NULL,
        created timestamptz NOT NULL DEFAULT now(),
        updated timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT accounts_slug_unique UNIQUE (slug)
      )`);
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        email varchar(255) NOT NULL,
        first_name varchar(255),
        last_name varchar(255),
        role varchar(16) NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user')),
        password_digest varchar(255),
        created timestamptz NOT NULL DEFAULT now(),
        updated timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX users_account_email_unique ON users (account_id, lower(email))`);
    await q.query(`
      CREATE TABLE products (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name varchar(255) NOT NULL,
        code varchar(255),
        distribution_strategy varchar(16) NOT NULL DEFAULT 'LICENSED'
          CHECK (distribution_strategy IN ('LICENSED', 'OPEN', 'CLOSED')),
        url varchar(2048),
        metadata jsonb NOT NULL DEFAULT '{}',
        created timestamptz NOT NULL DEFAULT now(),
        updated timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX products_account_code_unique ON products (account_id, code) WHERE code IS NOT NULL`);
    await q.query(`CREATE INDEX products_account_created ON products (account_id, created)`);
    await q.query(`
      CREATE TABLE tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        kind varchar(16) NOT NULL CHECK (kind IN ('admin-token', 'user-token', 'product-token')),
        name varchar(255),
        digest char(64) NOT NULL,
        user_id uuid REFERENCES users(id) ON DELETE CASCADE,
        product_id uuid REFERENCES products(id) ON DELETE CASCADE,
        expiry timestamptz,
        created timestamptz NOT NULL DEFAULT now(),
        updated timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT tokens_digest_unique UNIQUE (digest),
        CONSTRAINT tokens_bearer_present CHECK ((user_id IS NULL) <> (product_id IS NULL))
      )`);
    await q.query(`CREATE INDEX tokens_account_created ON tokens (account_id, created)`);
    await q.query(`
      CREATE TABLE entitlements (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name varchar(255) NOT NULL,
        code varchar(255) NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}',
        created timestamptz NOT NULL DEFAULT now(),
        updated timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX entitlements_account_code_unique ON entitlements (account_id, lower(code))`);
    await q.query(`
      CREATE TABLE licenses (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        product_id uuid NOT NULL REFERENCES products(id) ON DELETE CASCADE,
        user_id uuid REFERENCES users(id) ON DELETE SET NULL,
        key varchar(255) NOT NULL,
        name varchar(255),
        expiry timestamptz,
        expiration_strategy varchar(16) NOT NULL DEFAULT 'RESTRICT_ACCESS'
          CHECK (expiration_strategy IN ('RESTRICT_ACCESS', 'REVOKE_ACCESS', 'ALLOW_ACCESS')),
        suspended boolean NOT NULL DEFAULT false,
        metadata jsonb NOT NULL DEFAULT '{}',
        created timestamptz NOT NULL DEFAULT now(),
        updated timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT licenses_account_key_unique UNIQUE (account_id, key)
      )`);
    await q.query(`CREATE INDEX licenses_user ON licenses (user_id) WHERE user_id IS NOT NULL`);
    await q.query(`CREATE INDEX licenses_product ON licenses (product_id)`);
    await q.query(`
      CREATE TABLE license_entitlements (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        license_id uuid NOT NULL REFERENCES licenses(id) ON DELETE CASCADE,
        entitlement_id uuid NOT NULL REFERENCES entitlements(id) ON DELETE CASCADE,
        created timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT license_entitlements_unique UNIQUE (license_id, entitlement_id)
      )`);
    await q.query(`CREATE INDEX license_entitlements_entitlement ON license_entitlements (entitlement_id)`);
    await q.query(`
      CREATE TABLE releases (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        product_id uuid NOT NULL REFERENCES products(id) ON DELETE CASCADE,
        name varchar(255),
        description text,
        version varchar(255) NOT NULL,
        semver_major bigint NOT NULL,
        semver_minor bigint NOT NULL,
        semver_patch bigint NOT NULL,
        semver_prerelease varchar(255),
        semver_build varchar(255),
        semver_is_release boolean NOT NULL,
        semver_pre_key text[] COLLATE "C" NOT NULL DEFAULT '{}',
        semver_build_key text[] COLLATE "C" NOT NULL DEFAULT '{}',
        channel varchar(8) NOT NULL CHECK (channel IN ('stable', 'rc', 'beta', 'alpha', 'dev')),
        platform varchar(255) NOT NULL,
        filename varchar(255) NOT NULL,
        filetype varchar(255) NOT NULL,
        filesize bigint,
        signature text,
        checksum text,
        metadata jsonb NOT NULL DEFAULT '{}',
        status varchar(16) NOT NULL DEFAULT 'NOT_PUBLISHED' CHECK (status IN ('NOT_PUBLISHED', 'PUBLISHED', 'YANKED')),
        downloads bigint NOT NULL DEFAULT 0,
        upgrades bigint NOT NULL DEFAULT 0,
        yanked timestamptz,
        created timestamptz NOT NULL DEFAULT now(),
        updated timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT releases_version_unique UNIQUE (product_id, version, platform, channel, filetype),
        CONSTRAINT releases_filename_unique UNIQUE (product_id, filename)
      )`);
    await q.query(`CREATE INDEX releases_account_created ON releases (account_id, created, id)`);
    await q.query(`
      CREATE INDEX releases_precedence ON releases
        (product_id, platform, filetype, semver_major, semver_minor, semver_patch, semver_is_release, semver_pre_key)`);
    await q.query(`
      CREATE TABLE release_constraints (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        release_id uuid NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
        entitlement_id uuid NOT NULL REFERENCES entitlements(id) ON DELETE CASCADE,
        created timestamptz NOT NULL DEFAULT now(),
        updated timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT release_constraints_unique UNIQUE (release_id, entitlement_id)
      )`);
    await q.query(`CREATE INDEX release_constraints_entitlement ON release_constraints (entitlement_id)`);
    await q.query(`
      CREATE TABLE artifacts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        release_id uuid NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
        filename varchar(255) NOT NULL,
        filetype varchar(255) NOT NULL,
        filesize bigint,
        content_type varchar(255),
        sha256 char(64),
        sha512 char(128),
        status varchar(16) NOT NULL DEFAULT 'WAITING' CHECK (status IN ('WAITING', 'UPLOADED', 'FAILED')),
        storage_key varchar(1024),
        created timestamptz NOT NULL DEFAULT now(),
        updated timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT artifacts_release_unique UNIQUE (release_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'artifacts', 'release_constraints', 'releases', 'license_entitlements', 'licenses',
      'entitlements', 'tokens', 'products', 'users', 'accounts',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
