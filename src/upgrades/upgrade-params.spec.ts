import { ApiError } from '../jsonapi/errors';
import { parseUpgradeCheck, parseUpgradeTarget } from './upgrade-params';

const PRODUCT = '3e8aa7eb-d175-446d-bc40-282209fd8360';

function failure(fn: () => unknown): { status: number; code: string; parameter?: string } {
  try {
    fn();
  } catch (error) {
    const e = error as ApiError;
    return { status: e.status, code: e.errors[0].code, parameter: e.errors[0].source?.parameter };
  }
  throw new Error('expected a failure');
}

describe('upgrade parameters', () => {
  const base = { product: PRODUCT, platform: 'linux/amd64', version: '1.0.0' };

  it('reads a complete check with defaults', () => {
    const check = parseUpgradeCheck(base);
    expect(check.productId).toBe(PRODUCT);
    expect(check.platform).toBe('linux/amd64');
    expect(check.filetype).toBeUndefined();
    expect(check.current.version).toBe('1.0.0');
    expect(check.version).toBe('1.0.0');
    expect(check.channel).toBe('stable');
    expect(check.constraint).toBeUndefined();
  });

  it('joins arch to the platform (API 1.1 names them apart)', () => {
    expect(parseUpgradeCheck({ ...base, platform: 'linux', arch: 'arm64' }).platform).toBe('linux/arm64');
    expect(parseUpgradeCheck({ ...base, arch: 'amd64' }).platform).toBe('linux/amd64');
    expect(failure(() => parseUpgradeCheck({ ...base, arch: 'arm64' }))).toEqual({ status: 400, code: 'PARAMETER_INVALID', parameter: 'arch' });
    expect(failure(() => parseUpgradeCheck({ ...base, platform: 'linux', arch: '' }))).toEqual({ status: 400, code: 'PARAMETER_INVALID', parameter: 'arch' });
  });

  it('takes a product code in place of the id (resolved by the service)', () => {
    const check = parseUpgradeCheck({ ...base, product: 'acme-app' });
    expect(check.productCode).toBe('acme-app');
  });

  it('reads filetype, channel and constraints', () => {
    const check = parseUpgradeCheck({ ...base, filetype: 'tar.gz', channel: 'beta', constraint: '1.2', version: '1.0.0-beta.1+b7' });
    expect(check.filetype).toBe('tar.gz');
    expect(check.channel).toBe('beta');
    expect(check.constraint).toEqual({ major: 1, minor: 2 });
    expect(check.version).toBe('1.0.0-beta.1+b7');
    expect(parseUpgradeTarget({ constraint: '3' }).constraint).toEqual({ major: 3, minor: undefined });
    expect(parseUpgradeTarget({}).channel).toBe('stable');
  });

  it.each([
    [{ ...base, product: undefined }, 'product'],
    [{ ...base, product: '' }, 'product'],
    [{ ...base, product: 'x'.repeat(256) }, 'product'],
    [{ ...base, platform: undefined }, 'platform'],
    [{ ...base, platform: ' ' }, 'platform'],
    [{ ...base, version: undefined }, 'version'],
    [{ ...base, version: 'v1.0.0' }, 'version'],
    [{ ...base, version: '1.0' }, 'version'],
    [{ ...base, version: 'latest' }, 'version'],
    [{ ...base, filetype: '' }, 'filetype'],
    [{ ...base, channel: 'nightly' }, 'channel'],
    [{ ...base, channel: 'STABLE' }, 'channel'],
    [{ ...base, constraint: '1.x' }, 'constraint'],
    [{ ...base, constraint: '1.2.3' }, 'constraint'],
    [{ ...base, constraint: '' }, 'constraint'],
    [{ ...base, platform: ['linux', 'darwin'] }, 'platform'],
  ])('rejects %j naming %s', (query, parameter) => {
    expect(failure(() => parseUpgradeCheck(query as Record<string, unknown>))).toEqual({ status: 400, code: 'PARAMETER_INVALID', parameter });
  });
});
