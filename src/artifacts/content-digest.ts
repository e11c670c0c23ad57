import { ApiError } from '../jsonapi/errors';
import { ArtifactErrorCode } from './artifact-errors';

export type DigestAlgorithm = 'sha256' | 'sha512';

export interface ExpectedDigest {
  algorithm: DigestAlgorithm;
  /** Lowercase hex. */
  hex: string;
}

const ALGORITHMS: Record<string, { algorithm: DigestAlgorithm; bytes: number }> = {
  'sha-256': { algorithm: 'sha256', bytes: 32 },
  'sha-512': { algorithm: 'sha512', bytes: 64 },
};

function malformed(detail: string): ApiError {
  return new ApiError(400, ArtifactErrorCode.CONTENT_DIGEST_INVALID, detail, { header: 'Content-Digest' });
}

/**
 * RFC 9530 `Content-Digest` (a structured-field dictionary of byte sequences), e.g.
 * `sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:`. Algorithms other than sha-256 and
 * sha-512 are skipped (RFC 9530 §2 lets a recipient ignore them), but a header naming none we can
 * verify is refused rather than silently unchecked. Returns [] when the header is absent.
 */
export function parseContentDigest(header: string | string[] | undefined): ExpectedDigest[] {
  if (header === undefined) return [];
  const raw = Array.isArray(header) ? header.join(',') : header;
  if (!raw.trim()) throw malformed('must not be empty');
  const out: ExpectedDigest[] = [];
  for (const member of raw.split(',')) {
    const m = /^\s*([a-z*][a-z0-9_.*-]*)\s*=\s*:([A-Za-z0-9+/]*={0,2}):\s*(;.*)?$/.exec(member);
    if (!m) throw malformed('must be a dictionary such as sha-256=:<base64>:');
    const known = ALGORITHMS[m[1]];
    if (!known) continue;
    const bytes = Buffer.from(m[2], 'base64');
    if (bytes.length !== known.bytes || bytes.toString('base64') !== m[2]) {
      throw malformed(`${m[1]} must be ${known.bytes} bytes in base64`);
    }
    out.push({ algorithm: known.algorithm, hex: bytes.toString('hex') });
  }
  if (!out.length) throw malformed('must carry a sha-256 or sha-512 digest');
  return out;
}
