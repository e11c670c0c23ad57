import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { insertReturning } from '../../src/database/insert-returning';
import { Artifact } from '../../src/releases/artifact.entity';
import { Release } from '../../src/releases/release.entity';
import { semverColumns, parseStrictVersion } from '../../src/releases/semver';
import { startApp, TestApp } from '../support/app';
import { createProduct } from '../support/catalogue.factories';
import { createAccount, TestAccount } from '../support/factories';

/**
 * A write answers with the row it inserted as RETURNING gave it (insertReturning), not read again:
 * that row must be the entity a find would give, column for column (defaults, bigints through
 * their transformer, arrays, jsonb, timestamps, nulls), or answers and event payloads would differ
 * from later reads.
 */
describe('insertReturning', () => {
  let t: TestApp;
  let account: TestAccount;
  let productId: string;
  let db: DataSource;

  beforeAll(async () => {
    t = await startApp();
    db = t.app.get(DataSource);
    account = await createAccount(t);
    productId = (await createProduct(t, account)).id;
  });
  afterAll(() => t.close());

  it('gives a release as a find right after the insert gives it', async () => {
    const inserted = await db.transaction(async (m) => {
      const release = await insertReturning(m, Release, {
        accountId: account.id,
        productId,
        version: '2.0.0-beta.3+build.7',
        ...semverColumns(parseStrictVersion('2.0.0-beta.3+build.7')!),
        channel: 'beta',
        platform: 'linux',
        filename: 'app.tar.gz',
        filetype: 'tar.gz',
        filesize: 12_345_678_901,
        name: null,
        description: null,
        signature: null,
        checksum: null,
        metadata: { nested: { list: [1, 'two'] } },
        status: 'NOT_PUBLISHED',
        downloads: 0,
        upgrades: 0,
        yanked: null,
      });
      expect(await m.findOneOrFail(Release, { where: { id: release.id } })).toEqual(release);
      return release;
    });
    // the same after the commit, from another connection
    expect(await db.manager.findOneOrFail(Release, { where: { id: inserted.id } })).toEqual(inserted);
    expect(inserted).toMatchObject({ filesize: 12_345_678_901, semverPreKey: expect.any(Array), artifactSha256: null, critical: false, rolloutPercentage: 100, tag: null });
    expect(inserted.created).toBeInstanceOf(Date);
  });

  it('gives an artifact as a find right after the insert gives it', async () => {
    const [release] = await db.query(`SELECT id FROM releases WHERE account_id = $1 LIMIT 1`, [account.id]);
    const artifact = await db.transaction((m) =>
      insertReturning(m, Artifact, {
        id: randomUUID(),
        accountId: account.id,
        releaseId: release.id,
        filename: 'app.tar.gz',
        filetype: 'tar.gz',
        filesize: 16,
        contentType: 'application/gzip',
        sha256: 'a'.repeat(64),
        sha512: 'b'.repeat(128),
        status: 'UPLOADED',
        storageKey: 'k/e/y',
      }),
    );
    expect(await db.manager.findOneOrFail(Artifact, { where: { id: artifact.id } })).toEqual(artifact);
    expect(artifact).toMatchObject({ downloads: 0, metadata: {}, platform: null, manifest: null, uploadExpires: null });
  });
});
