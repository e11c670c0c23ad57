import { randomBytes } from 'node:crypto';
import type { ByteRange } from '../storage/storage-driver';

/** One part of a multipart/byteranges answer: its delimiter and header lines, then the range's bytes. */
export interface BytesPart {
  range: ByteRange;
  head: string;
}

/** The frame of a multipart/byteranges answer, laid out before a byte is read. */
export interface ByterangesFrame {
  /** `multipart/byteranges; boundary=...`, the answer's Content-Type. */
  contentType: string;
  parts: BytesPart[];
  /** The closing delimiter. */
  tail: string;
  /** The whole body's length in bytes: the answer's Content-Length. */
  length: number;
}

/** 32 hex characters: random, so that no file's bytes are expected to hold the delimiter. */
export function newBoundary(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Lays out a `multipart/byteranges` body (RFC 9110 §14.6): per range a delimiter line, its
 * `Content-Type` and `Content-Range: bytes a-b/size`, an empty line and the bytes; then the closing
 * delimiter. The body starts with the first delimiter (no preamble; electron-updater's reader
 * expects it there). Every header line is ASCII, so the length is exact before anything is read.
 */
export function byterangesFrame(ranges: ByteRange[], size: number, partContentType: string, boundary = newBoundary()): ByterangesFrame {
  const type = /^[\x21-\x7e][\x20-\x7e]*$/.test(partContentType) ? partContentType : 'application/octet-stream';
  let length = 0;
  const parts = ranges.map((range, i) => {
    const head = `${i === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${type}\r\nContent-Range: bytes ${range.start}-${range.end}/${size}\r\n\r\n`;
    length += head.length + (range.end - range.start + 1);
    return { range, head };
  });
  const tail = `\r\n--${boundary}--\r\n`;
  length += tail.length;
  return { contentType: `multipart/byteranges; boundary=${boundary}`, parts, tail, length };
}
