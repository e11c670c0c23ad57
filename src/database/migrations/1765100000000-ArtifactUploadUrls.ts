import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Upload URLs (the Keygen 1.0 upload flow: an empty `PUT /releases/:id/artifact` answers 307 to a
 * signed URL): while one is outstanding, its artifact row records when it expires, the storage key
 * the bytes go to (presigned S3 uploads land there directly) and the digest the client declared.
 * The partial index keeps the sweep over outstanding uploads from reading the whole table.
 */
export class ArtifactUploadUrls1765100000000 implements MigrationInterface {
  name = 'ArtifactUploadUrls1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE artifacts
        ADD COLUMN upload_expires timestamptz,
        ADD COLUMN upload_key varchar,
        ADD COLUMN upload_digest varchar(512)`);
    await q.query(`CREATE INDEX artifacts_upload_pending ON artifacts (upload_expires) WHERE upload_expires IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS artifacts_upload_pending`);
    await q.query(`ALTER TABLE artifacts DROP COLUMN upload_expires, DROP COLUMN upload_key, DROP COLUMN upload_digest`);
  }
}
