import type { ByteRange } from '../storage/storage-driver';

export type RangeRequest =
  /** No usable Range header: answer 200 with the whole file. */
  | { kind: 'full' }
  /** One or more satisfiable ranges, in the order to send them: 206 (several: multipart/byteranges). */
  | { kind: 'partial'; ranges: ByteRange[] }
  /** Syntactically valid but nothing in it overlaps the file: answer 416. */
  | { kind: 'unsatisfiable' };

/**
 * The most ranges one request may name. electron-updater's differential downloader names up to
 * 500 (its batches of 1000 operations alternate copies and downloads); a longer Range is ignored
 * and the whole file is sent (RFC 9110 §14.2 lets a server ignore Range), which costs no more than
 * a plain download, where hundreds of tiny parts would cost a storage read and a part header each.
 */
export const MAX_RANGES = 1000;

const FULL: RangeRequest = { kind: 'full' };
const UNSATISFIABLE: RangeRequest = { kind: 'unsatisfiable' };

/**
 * Reads a `Range` header against a file of `size` bytes (RFC 9110 §14.1.2, §14.2): `a-b` (b
 * clamped to the end), `a-`, `-n` (the last n bytes), several separated by commas. Another unit, a
 * malformed or reversed (`5-1`) range, a position beyond 2^53 or more than MAX_RANGES ranges make
 * the header ignored (the whole file). Ranges that start past the end are dropped; none left is
 * 416. Ranges that share bytes are merged into one, at the place of the first of them (a part
 * never repeats bytes, so an answer is never larger than the file plus its part headers); the
 * others are kept as asked, in the client's order (electron-updater matches parts to its requests
 * by position). Not express's `range-parser`: its 1.x answers 416 for a suffix longer than the
 * file (`-5000` of 1000 bytes is the whole file) and for a set with a reversed range; 2.x needs
 * Node 22 and is an ES module only.
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return FULL;
  const set = /^\s*bytes\s*=([\s\d,-]*)$/i.exec(header);
  if (!set) return FULL;
  const ranges: ByteRange[] = [];
  let named = 0;
  for (const element of set[1].split(',')) {
    const spec = element.trim();
    if (spec === '') continue; // an empty list element (RFC 9110 §5.6.1)
    if (++named > MAX_RANGES) return FULL;
    const m = /^(\d*)\s*-\s*(\d*)$/.exec(spec);
    if (!m) return FULL;
    const [, first, last] = m;
    if (first === '' && last === '') return FULL;
    if (first === '') {
      // suffix range: the last n bytes (all of them when the file is shorter)
      const n = Number(last);
      if (n > 0 && size > 0) ranges.push({ start: Math.max(0, size - n), end: size - 1 });
      continue;
    }
    const start = Number(first);
    const end = last === '' ? size - 1 : Number(last);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) return FULL;
    if (last !== '' && end < start) return FULL; // an invalid byte-range-spec: ignore the header
    if (start < size) ranges.push({ start, end: Math.min(end, size - 1) });
  }
  if (named === 0) return FULL;
  if (ranges.length === 0) return UNSATISFIABLE;
  return { kind: 'partial', ranges: mergeOverlapping(ranges) };
}

/** Ranges that share a byte become one, placed where the first of them was; the rest keep their order. */
function mergeOverlapping(ranges: ByteRange[]): ByteRange[] {
  if (ranges.length < 2) return ranges;
  const byStart = ranges.map((r, index) => ({ start: r.start, end: r.end, index })).sort((a, b) => a.start - b.start || a.index - b.index);
  const merged = [byStart[0]];
  for (const r of byStart.slice(1)) {
    const last = merged[merged.length - 1];
    if (r.start <= last.end) {
      last.end = Math.max(last.end, r.end);
      last.index = Math.min(last.index, r.index);
    } else {
      merged.push(r);
    }
  }
  if (merged.length === ranges.length) return ranges;
  return merged.sort((a, b) => a.index - b.index).map(({ start, end }) => ({ start, end }));
}

/**
 * Whether a request to a file URL continues a download rather than starting one: its Range (as
 * parseRange reads it, whatever the file's size) names no range that starts at byte 0, so it asks
 * for the rest of a file (a resumed download) or for some of its blocks (electron-updater's
 * differential update sends one request per changed stretch when it cannot name several ranges at
 * once). Such a request is answered as any other but is not counted as a new download. A Range
 * that would be ignored (malformed, another unit, too many ranges) gets the whole file: counted.
 */
export function continuesDownload(header: string | undefined): boolean {
  const request = parseRange(header, Number.MAX_SAFE_INTEGER);
  return request.kind === 'partial' && request.ranges.every((r) => r.start > 0);
}

/**
 * Whether a Range header names several ranges. S3 answers one range per request (several get the
 * whole object, 200), so such a download is served by Shipgate, range by range from S3, instead of
 * a redirect to a presigned URL.
 */
export function namesSeveralRanges(header: string | undefined): boolean {
  return header !== undefined && header.includes(',');
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
