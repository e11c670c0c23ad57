import { createHash } from 'node:crypto';
import { offeredTo, rolloutBucket } from './rollout';

/** The first 4 bytes of sha256("0b7c6f0e-1d7e-4a57-9d0c-5c4a8f0f2a11:abc"), from sha256sum. */
const EXPECTED_PREFIX = 'a36356e0';

describe('rollout cohorts', () => {
  const release = '0b7c6f0e-1d7e-4a57-9d0c-5c4a8f0f2a11';
  const subjects = Array.from({ length: 2000 }, (_, i) => `license-${i}`);

  it('puts a caller in the same bucket every time, from the first 4 bytes of SHA-256 mod 100', () => {
    expect(rolloutBucket(release, 'abc')).toBe(rolloutBucket(release, 'abc'));
    // sha256("0b7c…2a11:abc") starts with the bytes below (checked with `printf %s … | sha256sum`)
    expect(rolloutBucket(release, 'abc')).toBe(Number(BigInt(`0x${EXPECTED_PREFIX}`) % 100n));
    // the digest's first 4 bytes read big-endian, for every subject
    for (const s of subjects) expect(rolloutBucket(release, s)).toBe(createHash('sha256').update(`${release}:${s}`).digest().readUInt32BE(0) % 100);
  });

  it('offers a 30 % rollout to about 30 % of callers, and raising it only adds', () => {
    const at30 = subjects.filter((s) => offeredTo(release, 30, s));
    expect(at30.length / subjects.length).toBeGreaterThan(0.26);
    expect(at30.length / subjects.length).toBeLessThan(0.34);
    const at60 = new Set(subjects.filter((s) => offeredTo(release, 60, s)));
    expect(at30.every((s) => at60.has(s))).toBe(true);
    expect(at60.size).toBeGreaterThan(at30.length);
  });

  it('0 offers it to nobody, 100 to everyone; no subject is outside partial rollouts; undefined is everyone', () => {
    expect(subjects.some((s) => offeredTo(release, 0, s))).toBe(false);
    expect(subjects.every((s) => offeredTo(release, 100, s))).toBe(true);
    expect(offeredTo(release, 99, null)).toBe(false);
    expect(offeredTo(release, 100, null)).toBe(true);
    expect(offeredTo(release, 0, undefined)).toBe(true);
  });
});
