import { decoyDigest, hashPassword, verifyPassword } from './passwords';

describe('passwords', () => {
  it('hashes at the configured cost and verifies', async () => {
    const digest = await hashPassword('a-long-password', 5);
    expect(digest).toMatch(/^\$2b\$05\$/);
    await expect(verifyPassword('a-long-password', digest, 5)).resolves.toBe(true);
    await expect(verifyPassword('wrong', digest, 5)).resolves.toBe(false);
  });

  it('compares an unknown email against a decoy made at the configured cost (not a fixed one)', async () => {
    expect(await decoyDigest(6)).toMatch(/^\$2b\$06\$/);
    expect(await decoyDigest(11)).toMatch(/^\$2b\$11\$/);
    await expect(verifyPassword('anything', null, 6)).resolves.toBe(false);
  });

  it('costs about the same for an unknown email as for a known one', async () => {
    const cost = 11;
    const digest = await hashPassword('a-long-password', cost);
    await verifyPassword('warm-up', null, cost);
    const time = async (d: string | null) => {
      const started = process.hrtime.bigint();
      await verifyPassword('wrong-password', d, cost);
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 3; i++) {
      known.push(await time(digest));
      unknown.push(await time(null));
    }
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[1];
    // a decoy two cost steps cheaper would be 4x faster
    expect(median(unknown) / median(known)).toBeGreaterThan(0.6);
    expect(median(unknown) / median(known)).toBeLessThan(1.6);
  });
});
