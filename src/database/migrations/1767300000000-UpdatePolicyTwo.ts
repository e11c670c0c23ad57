import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Update policy, second part (upgrades/update-policy.ts):
 * - releases.required: a stepping stone (a caller below it is offered it, not anything above it);
 * - products.minimum_version (update answers below it are critical) and rollback_on_yank;
 * - licenses.version_pin: a semver range that limits what update checks offer the license.
 * The artifact_offers view shows every release column (its rows are Releases): `required` is
 * appended to it, whatever columns earlier migrations gave it.
 */
export class UpdatePolicyTwo1767300000000 implements MigrationInterface {
  name = 'UpdatePolicyTwo1767300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE releases ADD COLUMN required boolean NOT NULL DEFAULT false`);
    await q.query(`ALTER TABLE products ADD COLUMN minimum_version varchar(255), ADD COLUMN rollback_on_yank boolean NOT NULL DEFAULT false`);
    await q.query(`ALTER TABLE licenses ADD COLUMN version_pin varchar(255)`);
    await q.query(`CREATE OR REPLACE VIEW artifact_offers AS ${await this.viewWith(q, 'r.required')}`);
  }

  async down(q: QueryRunner): Promise<void> {
    const definition = (await this.definition(q)).replace(/,\s*r\.required(\s+FROM\b)/, '$1');
    await q.query(`DROP VIEW artifact_offers`);
    await q.query(`CREATE VIEW artifact_offers AS ${definition}`);
    await q.query(`ALTER TABLE licenses DROP COLUMN version_pin`);
    await q.query(`ALTER TABLE products DROP COLUMN rollback_on_yank, DROP COLUMN minimum_version`);
    await q.query(`ALTER TABLE releases DROP COLUMN required`);
  }

  private async definition(q: QueryRunner): Promise<string> {
    const rows: Array<{ def: string }> = await q.query(`SELECT pg_get_viewdef('artifact_offers'::regclass, true) AS def`);
    return rows[0].def.trim().replace(/;$/, '');
  }

  /** The view's current definition with `column` appended to its select list (CREATE OR REPLACE VIEW may only append). */
  private async viewWith(q: QueryRunner, column: string): Promise<string> {
    const definition = await this.definition(q);
    const from = /\s+FROM\s+releases\s+r\b/.exec(definition);
    if (!from) throw new Error('artifact_offers: unexpected definition');
    return `${definition.slice(0, from.index)}, ${column}${definition.slice(from.index)}`;
  }
}
