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

  it('offers a release at 30 % to 30 % ± 4 % of 2,000 licenses (UUIDs, as stored), exactly those whose bucket is below 30, for any release', () => {
    // fixed ids (UUID-shaped digests of a counter): the same 2,000 licenses and releases every run
    const uuid = (seed: string) => {
      const h = createHash('sha256').update(seed).digest('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
    };
    const licenses = Array.from({ length: 2000 }, (_, i) => uuid(`license ${i}`));
    const installs = Array.from({ length: 2000 }, (_, i) => `install-${i}`);
    for (let r = 0; r < 5; r++) {
      const releaseId = uuid(`release ${r}`);
      for (const subjects of [licenses, installs]) {
        const offered = subjects.filter((s) => offeredTo(releaseId, 30, s));
        expect(offered).toEqual(subjects.filter((s) => createHash('sha256').update(`${releaseId}:${s}`).digest().readUInt32BE(0) % 100 < 30));
        expect(offered.length / subjects.length).toBeGreaterThanOrEqual(0.26);
        expect(offered.length / subjects.length).toBeLessThanOrEqual(0.34);
        // and at 60 %: everyone offered at 30 % and more, about 60 %
        const at60 = new Set(subjects.filter((s) => offeredTo(releaseId, 60, s)));
        expect(offered.every((s) => at60.has(s))).toBe(true);
        expect(at60.size / subjects.length).toBeGreaterThanOrEqual(0.56);
        expect(at60.size / subjects.length).toBeLessThanOrEqual(0.64);
      }
    }
  });

  it('0 offers it to nobody, 100 to everyone; no subject is outside partial rollouts; undefined is everyone', () => {
    expect(subjects.some((s) => offeredTo(release, 0, s))).toBe(false);
    expect(subjects.every((s) => offeredTo(release, 100, s))).toBe(true);
    expect(offeredTo(release, 99, null)).toBe(false);
    expect(offeredTo(release, 100, null)).toBe(true);
    expect(offeredTo(release, 0, undefined)).toBe(true);
  });
});
