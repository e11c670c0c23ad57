import { jest } from '@jest/globals';
import bcrypt from 'bcrypt';
import { PasswordHasher } from './passwords';

const hasher = (cost: number) => new PasswordHasher({ passwordHashCost: cost, passwordHashConcurrency: 2, passwordHashQueue: 8 });

describe('passwords', () => {
  it('hashes at the configured cost and verifies', async () => {
    const passwords = hasher(5);
    const digest = await passwords.hash('a-long-password');
    expect(digest).toMatch(/^\$2b\$05\$/);
    await expect(passwords.verify('a-long-password', digest, 'other')).resolves.toBe(true);
    await expect(passwords.verify('wrong', digest, 'other')).resolves.toBe(false);
  });

  it('compares an unknown email against a decoy made at the configured cost (not a fixed one)', async () => {
    expect(await hasher(6).decoyDigest()).toMatch(/^\$2b\$06\$/);
    expect(await hasher(11).decoyDigest()).toMatch(/^\$2b\$11\$/);
    await expect(hasher(6).verify('anything', null, 'other')).resolves.toBe(false);
  });

  it('costs the same for an unknown email as for a known one: one bcrypt comparison each, against a digest of the configured cost', async () => {
    // bcrypt's work is set by the cost inside the digest it compares against, whatever the machine's
    // speed: checked on the digests compared rather than timed (a decoy two cost steps cheaper would be 4x faster)
    const cost = 7;
    const passwords = hasher(cost);
    const digest = await passwords.hash('a-long-password');
    await passwords.onApplicationBootstrap();
    const compare = jest.spyOn(bcrypt, 'compare');
    try {
      await expect(passwords.verify('wrong-password', digest, 'other')).resolves.toBe(false);
      await expect(passwords.verify('wrong-password', null, 'other')).resolves.toBe(false);
      expect(compare).toHaveBeenCalledTimes(2);
      const [known, unknown] = compare.mock.calls.map((call) => call[1] as unknown as string);
      expect(known).toBe(digest);
      // a real digest (not a malformed one bcrypt would reject at once), at the same cost, of another password
      expect(unknown).toMatch(/^\$2b\$07\$[./A-Za-z0-9]{53}$/);
      expect(bcrypt.getRounds(unknown)).toBe(bcrypt.getRounds(digest));
      expect(unknown).not.toBe(digest);
      // and the same decoy for every unknown email at that cost
      await passwords.verify('another-password', null, 'other');
      expect(compare.mock.calls[2][1]).toBe(unknown);
    } finally {
      compare.mockRestore();
    }
  });
});
