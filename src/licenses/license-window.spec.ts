import { inLicenseWindow, licenseRowWindowSql, licenseWindow, licenseWindowKeptUntil, licenseWindowSql } from './license-window';
import type { ExpirationStrategy } from '../access/strategies';

const expiry = new Date('2026-06-01T00:00:00Z');
const before = expiry.getTime() - 1;
const after = expiry.getTime() + 1;
const license = (expirationStrategy: ExpirationStrategy, at: Date | null = expiry) => ({ expiry: at, expirationStrategy });

describe('licenseWindow', () => {
  it.each<ExpirationStrategy>(['RESTRICT_ACCESS', 'REVOKE_ACCESS', 'ALLOW_ACCESS'])('is all before the expiry and without one (%s)', (strategy) => {
    expect(licenseWindow(license(strategy), before)).toBe('all');
    expect(licenseWindow(license(strategy, null), after)).toBe('all');
  });

  it('after the expiry: RESTRICT_ACCESS reaches releases created until it, REVOKE_ACCESS none, ALLOW_ACCESS all', () => {
    expect(licenseWindow(license('RESTRICT_ACCESS'), after)).toEqual({ until: expiry });
    expect(licenseWindow(license('REVOKE_ACCESS'), after)).toBe('none');
    expect(licenseWindow(license('ALLOW_ACCESS'), after)).toBe('all');
  });

  it('counts the expiry instant itself as expired', () => {
    expect(licenseWindow(license('REVOKE_ACCESS'), expiry.getTime())).toBe('none');
  });

  it('takes in a release created at the window end, not one created after it', () => {
    const window = licenseWindow(license('RESTRICT_ACCESS'), after);
    expect(inLicenseWindow(window, expiry)).toBe(true);
    expect(inLicenseWindow(window, new Date(after))).toBe(false);
    expect(inLicenseWindow('all', new Date(after))).toBe(true);
    expect(inLicenseWindow('none', new Date(before))).toBe(false);
  });

  it('is kept until the expiry while it is ahead, then for good', () => {
    expect(licenseWindowKeptUntil(license('RESTRICT_ACCESS'), before)).toBe(expiry.getTime());
    expect(licenseWindowKeptUntil(license('RESTRICT_ACCESS'), after)).toBe(Infinity);
    expect(licenseWindowKeptUntil(license('RESTRICT_ACCESS', null), after)).toBe(Infinity);
  });
});

describe('the window as SQL', () => {
  it('is a constant or one comparison for a known license', () => {
    expect(licenseWindowSql('all', 'r.created', 'p')).toEqual({ sql: 'true', params: {} });
    expect(licenseWindowSql('none', 'r.created', 'p')).toEqual({ sql: 'false', params: {} });
    expect(licenseWindowSql({ until: expiry }, 'r.created', 'p')).toEqual({ sql: 'r.created <= :p', params: { p: expiry } });
  });

  it('reads the joined license row: no expiry, not yet expired, or each strategy after it', () => {
    expect(licenseRowWindowSql('l', 'r.created')).toBe(
      "(l.expiry IS NULL OR l.expiry > now() OR l.expiration_strategy = 'ALLOW_ACCESS' OR (l.expiration_strategy = 'RESTRICT_ACCESS' AND r.created <= l.expiry))",
    );
  });
});
