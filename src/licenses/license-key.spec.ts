import { generateLicenseKey, GIVEN_LICENSE_KEY, LICENSE_KEY_BYTES, LICENSE_KEY_FORMAT } from './license-key';

describe('generateLicenseKey', () => {
  it('writes 6 groups of 6 uppercase hex digits separated by dashes', () => {
    for (let i = 0; i < 100; i++) expect(generateLicenseKey()).toMatch(LICENSE_KEY_FORMAT);
  });

  it('carries at least 120 bits of randomness', () => {
    expect(LICENSE_KEY_BYTES * 8).toBeGreaterThanOrEqual(120);
    expect(generateLicenseKey().replace(/-/g, '')).toHaveLength(36);
  });

  it('does not repeat itself over many keys', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 20000; i++) keys.add(generateLicenseKey());
    expect(keys.size).toBe(20000);
  });

  it('uses every hex digit (no stuck positions)', () => {
    const seen = new Set(Array.from({ length: 200 }, generateLicenseKey).join('').replace(/-/g, ''));
    expect(seen.size).toBe(16);
  });

  it('accepts the generated format as a given key and refuses short keys, whitespace or control characters', () => {
    expect(GIVEN_LICENSE_KEY.test(generateLicenseKey())).toBe(true);
    expect(GIVEN_LICENSE_KEY.test('a')).toBe(false);
    expect(GIVEN_LICENSE_KEY.test('abcdefg')).toBe(false);
    expect(GIVEN_LICENSE_KEY.test('abcdefgh')).toBe(true);
    expect(GIVEN_LICENSE_KEY.test('x'.repeat(255))).toBe(true);
    expect(GIVEN_LICENSE_KEY.test('')).toBe(false);
    expect(GIVEN_LICENSE_KEY.test('x'.repeat(256))).toBe(false);
    expect(GIVEN_LICENSE_KEY.test('has space')).toBe(false);
    expect(GIVEN_LICENSE_KEY.test('tab\there')).toBe(false);
    expect(GIVEN_LICENSE_KEY.test('nul\u0000')).toBe(false);
  });
});
