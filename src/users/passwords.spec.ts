import { jest } from '@jest/globals';
import bcrypt from 'bcrypt';
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

  it('costs the same for an unknown email as for a known one: one bcrypt comparison each, against a digest of the configured cost', async () => {
    // bcrypt's work is set by the cost inside the digest it compares against, whatever the machine's
    // speed: checked on the digests compared rather than timed (a decoy two cost steps cheaper would be 4x faster)
    const cost = 7;
    const digest = await hashPassword('a-long-password', cost);
    const compare = jest.spyOn(bcrypt, 'compare');
    try {
      await expect(verifyPassword('wrong-password', digest, cost)).resolves.toBe(false);
      await expect(verifyPassword('wrong-password', null, cost)).resolves.toBe(false);
      expect(compare).toHaveBeenCalledTimes(2);
      const [known, unknown] = compare.mock.calls.map((call) => call[1] as unknown as string);
      expect(known).toBe(digest);
      // a real digest (not a malformed one bcrypt would reject at once), at the same cost, of another password
      expect(unknown).toMatch(/^\$2b\$07\$[./A-Za-z0-9]{53}$/);
      expect(bcrypt.getRounds(unknown)).toBe(bcrypt.getRounds(digest));
      expect(unknown).not.toBe(digest);
      // and the same decoy for every unknown email at that cost
      await verifyPassword('another-password', null, cost);
      expect(compare.mock.calls[2][1]).toBe(unknown);
    } finally {
      compare.mockRestore();
    }
  });
});
