import { isTimestamp } from './timestamp';

describe('isTimestamp', () => {
  it('accepts RFC 3339 dates and date-times', () => {
    for (const ok of ['2030-01-01', '2030-01-01T00:00:00Z', '2030-01-01T12:30:00.123+02:00', '2030-06-30T23:59:59.999999Z']) {
      expect({ ok, valid: isTimestamp(ok) }).toEqual({ ok, valid: true });
    }
  });

  it('refuses what Date or PostgreSQL would read differently or not at all', () => {
    for (const bad of ['2030-W01', '2030-W01-1', '2030-001', '2030-13-01', '2030-02-30T00:00:00Z', 'tomorrow', '', 2030]) {
      expect({ bad, valid: isTimestamp(bad) }).toEqual({ bad, valid: false });
    }
  });
});
