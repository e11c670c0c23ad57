import { createHash } from 'node:crypto';
import { ApiError } from '../jsonapi/errors';
import { parseContentDigest } from './content-digest';

const bytes = Buffer.from('hello world');
const sha256 = createHash('sha256').update(bytes);
const b64_256 = sha256.copy().digest('base64');
const hex256 = sha256.digest('hex');
const b64_512 = createHash('sha512').update(bytes).digest('base64');

function error(header: string): ApiError {
  try {
    parseContentDigest(header);
  } catch (e) {
    return e as ApiError;
  }
  throw new Error('expected an error');
}

describe('parseContentDigest', () => {
  it('is empty without the header', () => {
    expect(parseContentDigest(undefined)).toEqual([]);
  });

  it('reads sha-256 and sha-512 as lowercase hex', () => {
    expect(parseContentDigest(`sha-256=:${b64_256}:`)).toEqual([{ algorithm: 'sha256', hex: hex256 }]);
    const both = parseContentDigest(`sha-512=:${b64_512}:, sha-256=:${b64_256}:`);
    expect(both.map((d) => d.algorithm)).toEqual(['sha512', 'sha256']);
  });

  it('skips algorithms it does not know when a known one is present', () => {
    expect(parseContentDigest(`md5=:XrY7u+Ae7tCTyyK7j1rNww==:, sha-256=:${b64_256}:`)).toHaveLength(1);
  });

  it.each([
    ['', 'empty'],
    ['sha-256=abc', 'not a byte sequence'],
    [`sha-256=${b64_256}`, 'missing colons'],
    ['sha-256=:AAAA:', 'wrong length'],
    [`sha-256=:${b64_512}:`, 'a sha-512 value under sha-256'],
    ['md5=:XrY7u+Ae7tCTyyK7j1rNww==:', 'nothing verifiable'],
    [`SHA-256=:${b64_256}:`, 'uppercase key (structured-field keys are lowercase)'],
  ])('refuses %j (%s) with 400 and source.header', (header) => {
    const e = error(header);
    expect(e.status).toBe(400);
    expect(e.errors[0].code).toBe('CONTENT_DIGEST_INVALID');
    expect(e.errors[0].source).toEqual({ header: 'Content-Digest' });
  });
});
