import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { HELD_UPLOAD_BYTES, LocalStorageDriver } from './local-storage.driver';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A body arriving in chunks of 16 KiB, as a request's does. */
function body(bytes: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += 16 * 1024) chunks.push(bytes.subarray(at, at + 16 * 1024));
  return Readable.from(chunks);
}

describe('LocalStorageDriver', () => {
  let dataDir: string;
  let driver: LocalStorageDriver;
  const parts = () => fs.readdirSync(driver.tempDir).filter((f) => f.endsWith('.part'));

  beforeEach(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-storage-'));
    driver = new LocalStorageDriver(dataDir);
    await driver.init();
  });

  afterEach(async () => {
    await driver.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it.each([
    ['held in memory until its commit', 16, 0],
    ['at the size held in memory', HELD_UPLOAD_BYTES, 0],
    ['streamed to a temporary file', HELD_UPLOAD_BYTES + 1, 1],
    ['of several MiB', 3 * 1024 * 1024 + 5, 1],
  ])('stages and commits an upload %s (%d bytes)', async (_what, size, partsWhileStaged) => {
    const bytes = randomBytes(size);
    const staged = await driver.stage('acct/art/one', body(bytes));
    expect(staged).toMatchObject({ size, sha256: sha256(bytes) });
    // nothing is at the key before the commit; a big upload is on disk already, a small one is not
    expect(fs.existsSync(driver.pathOf('acct/art/one'))).toBe(false);
    expect(parts()).toHaveLength(partsWhileStaged);
    await staged.commit();
    expect(sha256(fs.readFileSync(driver.pathOf('acct/art/one')))).toBe(sha256(bytes));
    expect(parts()).toEqual([]);
  });

  it('commits an empty upload as an empty file', async () => {
    const staged = await driver.stage('acct/art/empty', Readable.from([]));
    await staged.commit();
    expect(fs.readFileSync(driver.pathOf('acct/art/empty'))).toHaveLength(0);
  });

  it.each([
    ['a small upload', 1000],
    ['a big upload', 2 * HELD_UPLOAD_BYTES],
  ])('leaves nothing behind when %s is discarded, before or after its commit', async (_what, size) => {
    const first = await driver.stage('acct/a/x', body(randomBytes(size)));
    await first.discard();
    const second = await driver.stage('acct/b/y', body(randomBytes(size)));
    await second.commit();
    await second.discard();
    expect(parts()).toEqual([]);
    expect(fs.existsSync(driver.pathOf('acct/a/x'))).toBe(false);
    expect(fs.existsSync(driver.pathOf('acct/b/y'))).toBe(false);
  });

  it.each([
    ['in memory', 1000],
    ['in its temporary file', 3 * HELD_UPLOAD_BYTES],
  ])('fails a body that breaks off %s, leaving no file', async (_what, sent) => {
    const source = new PassThrough();
    const staging = driver.stage('acct/c/z', source);
    source.write(randomBytes(sent));
    await new Promise((r) => setTimeout(r, 50));
    source.destroy(new Error('the client went away'));
    await expect(staging).rejects.toThrow('the client went away');
    expect(parts()).toEqual([]);
    expect(fs.existsSync(driver.pathOf('acct/c/z'))).toBe(false);
  });

  it('commits many uploads at once, each with its own bytes', async () => {
    const uploads = Array.from({ length: 40 }, (_, i) => ({ key: `acct/m${i}/f`, bytes: randomBytes(i % 2 ? 100 + i : HELD_UPLOAD_BYTES + i) }));
    const staged = await Promise.all(uploads.map((u) => driver.stage(u.key, body(u.bytes))));
    await Promise.all(staged.map((s) => s.commit()));
    for (const u of uploads) expect(sha256(fs.readFileSync(driver.pathOf(u.key)))).toBe(sha256(u.bytes));
  });

  it('fails a commit whose directory cannot be made, and the driver goes on working', async () => {
    fs.mkdirSync(path.join(driver.root, 'blocked'));
    fs.writeFileSync(path.join(driver.root, 'blocked', 'file'), 'a file where a directory should be');
    const staged = await driver.stage('blocked/file/x', body(randomBytes(10)));
    // mkdir finds a file where the directory would be
    await expect(staged.commit()).rejects.toMatchObject({ code: 'EEXIST' });
    // the bytes written for the commit do not outlive it
    expect(parts()).toEqual([]);
    await staged.discard();
    const next = await driver.stage('acct/after/x', body(Buffer.from('still here')));
    await next.commit();
    expect(fs.readFileSync(driver.pathOf('acct/after/x'), 'utf8')).toBe('still here');
  });
});
