import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { canonicalDownloadString, decodeSignature, DownloadSigner, loadSigningSecret, SIGNING_SECRET_FILE } from './download-signer';

const secret = Buffer.from('s'.repeat(40));
const signer = new DownloadSigner(secret);
const now = 1_800_000_000;
const target = {
  accountId: '4f1c1a8e-0000-4000-8000-000000000001',
  artifactId: '4f1c1a8e-0000-4000-8000-000000000002',
  filename: 'prod-1/linux.tar.gz',
  expires: now + 60,
};

describe('DownloadSigner', () => {
  it('signs the canonical string with HMAC-SHA256 (hex)', () => {
    const expected = createHmac('sha256', secret).update(canonicalDownloadString(target)).digest('hex');
    expect(signer.sign(target)).toBe(expected);
    expect(signer.sign(target)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('accepts its own signature in hex (any case) and base64url', () => {
    const hex = signer.sign(target);
    expect(signer.verify(target, hex, now)).toBe('valid');
    expect(signer.verify(target, hex.toUpperCase(), now)).toBe('valid');
    expect(signer.verify(target, Buffer.from(hex, 'hex').toString('base64url'), now)).toBe('valid');
  });

  it('refuses any altered part', () => {
    const sig = signer.sign(target);
    expect(signer.verify({ ...target, artifactId: '4f1c1a8e-0000-4000-8000-000000000003' }, sig, now)).toBe('invalid');
    expect(signer.verify({ ...target, accountId: '4f1c1a8e-0000-4000-8000-000000000009' }, sig, now)).toBe('invalid');
    expect(signer.verify({ ...target, filename: 'prod-1/linux.zip' }, sig, now)).toBe('invalid');
    expect(signer.verify({ ...target, expires: target.expires + 1 }, sig, now)).toBe('invalid');
    expect(signer.verify(target, sig.replace(/.$/, (c) => (c === '0' ? '1' : '0')), now)).toBe('invalid');
    expect(new DownloadSigner(Buffer.from('t'.repeat(40))).verify(target, sig, now)).toBe('invalid');
  });

  it('tells an authentic expired URL from a forged one', () => {
    const sig = signer.sign(target);
    expect(signer.verify(target, sig, target.expires + 1)).toBe('expired');
    expect(signer.verify(target, sig, target.expires)).toBe('valid');
  });

  it('refuses malformed signatures without throwing', () => {
    for (const s of ['', 'abc', 'z'.repeat(64), 'a'.repeat(63), 'a'.repeat(65), '+'.repeat(43)]) {
      expect(signer.verify(target, s, now)).toBe('invalid');
    }
    expect(signer.verify({ ...target, expires: NaN }, signer.sign(target), now)).toBe('invalid');
    expect(decodeSignature('A'.repeat(43))).toHaveLength(32);
  });

  it('keeps filename boundaries unambiguous', () => {
    expect(canonicalDownloadString({ ...target, filename: 'a", "b' })).not.toBe(canonicalDownloadString({ ...target, filename: 'a' }));
  });

  it('refuses a short secret', () => {
    expect(() => new DownloadSigner(Buffer.alloc(16))).toThrow();
  });
});

describe('loadSigningSecret', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-secret-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('uses SIGNING_SECRET when configured and writes nothing', async () => {
    const s = await loadSigningSecret({ signingSecret: 'x'.repeat(32), dataDir: dir });
    expect(s.toString()).toBe('x'.repeat(32));
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('generates 32 bytes once, mode 0600, and reads them back', async () => {
    const first = await loadSigningSecret({ dataDir: dir });
    expect(first).toHaveLength(32);
    const file = path.join(dir, SIGNING_SECRET_FILE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(await loadSigningSecret({ dataDir: dir })).toEqual(first);
    expect(fs.readdirSync(dir)).toEqual([SIGNING_SECRET_FILE]);
  });

  it('agrees with itself when several starts race', async () => {
    const secrets = await Promise.all(Array.from({ length: 8 }, () => loadSigningSecret({ dataDir: dir })));
    for (const s of secrets) expect(s).toEqual(secrets[0]);
  });
});
