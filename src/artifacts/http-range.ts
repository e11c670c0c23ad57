import type { ByteRange } from '../storage/storage-driver';

export type RangeRequest =
  /** No usable Range header: answer 200 with the whole file. */
  | { kind: 'full' }
  /** One satisfiable range: answer 206. */
  | { kind: 'partial'; range: ByteRange }
  /** Syntactically valid but nothing in it overlaps the file: answer 416. */
  | { kind: 'unsatisfiable' };

/**
 * Reads a `Range` header against a file of `size` bytes (RFC 9110 §14.1.2, §14.2). Only single
 * byte ranges are served: several ranges, other units or malformed headers are answered with the
 * whole file (the RFC lets a server ignore Range). `a-b` (b clamped to the end), `a-`, `-n` (the
 * last n bytes).
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: 'full' };
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return { kind: 'full' };
  const [, first, last] = m;
  if (first === '' && last === '') return { kind: 'full' };
  if (first === '') {
    // suffix range: the last n bytes
    const n = Number(last);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', range: { start: Math.max(0, size - n), end: size - 1 } };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Number(last);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) return { kind: 'full' };
  if (last !== '' && end < start) return { kind: 'full' }; // invalid byte-range-spec: ignore the header
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', range: { start, end: Math.min(end, size - 1) } };
}

/** `If-None-Match` against a strong ETag (weak comparison, as RFC 9110 §13.1.2 asks for GET/HEAD). */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const opaque = etag.replace(/^W\//, '');
  return header.split(',').some((candidate) => {
    const c = candidate.trim();
    return c === '*' || c.replace(/^W\//, '') === opaque;
  });
}

/** `If-Range`: a Range is honoured only when the client's validator is our (strong) ETag. A date never matches. */
export function ifRangeAllows(header: string | undefined, etag: string): boolean {
  if (header === undefined) return true;
  return header.trim() === etag;
}

/** The last path segment: `prod-1/linux.tar.gz` -> `linux.tar.gz`. */
export function basename(filename: string): string {
  const parts = filename.split('/');
  return parts[parts.length - 1] || filename;
}

/**
 * `attachment; filename="<basename>"`, with an ASCII fallback and `filename*` (RFC 6266/8187)
 * when the name is not plain ASCII. Quotes, backslashes and control characters never reach the header.
 */
export function contentDisposition(filename: string): string {
  const name = basename(filename);
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const plain = ascii === name;
  let header = `attachment; filename="${ascii}"`;
  if (!plain) {
    const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    header += `; filename*=UTF-8''${encoded}`;
  }
  return header;
}
