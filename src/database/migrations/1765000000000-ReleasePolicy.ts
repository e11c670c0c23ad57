import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Update policy on releases: `critical` (installs older than the release must update) and
 * `rollout_percentage` (the share of callers a staged release is offered to, 0..100).
 */
export class ReleasePolicy1765000000000 implements MigrationInterface {
  name = 'ReleasePolicy1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE releases ADD COLUMN critical boolean NOT NULL DEFAULT false`);
    await q.query(`ALTER TABLE releases ADD COLUMN rollout_percentage smallint NOT NULL DEFAULT 100
      CONSTRAINT releases_rollout_percentage_range CHECK (rollout_percentage BETWEEN 0 AND 100)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE releases DROP COLUMN rollout_percentage`);
    await q.query(`ALTER TABLE releases DROP COLUMN critical`);
  }
}
