import * as fs from 'node:fs';
import { inflateRawSync } from 'node:zlib';

/** A wheel's METADATA is read only up to this size. */
const METADATA_MAX_BYTES = 1024 * 1024;

/**
 * The `Requires-Python` of a wheel (`<name>-<version>.dist-info/METADATA`), read from the zip's
 * central directory (a wheel is a zip: no unzip tool needed); null when it has none or the file is
 * no readable zip. The PyPI engine shows it as `data-requires-python`, so pip skips what would not
 * run.
 */
export function wheelRequiresPython(file: string): string | null {
  try {
    const zip = fs.readFileSync(file);
    // the end of central directory record: signature 0x06054b50, in the last 64 KiB + 22 bytes
    let eocd = -1;
    for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65557); i--) {
      if (zip.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) return null;
    const count = zip.readUInt16LE(eocd + 10);
    let at = zip.readUInt32LE(eocd + 16);
    for (let n = 0; n < count; n++) {
      if (zip.readUInt32LE(at) !== 0x02014b50) return null;
      const method = zip.readUInt16LE(at + 10);
      const compressed = zip.readUInt32LE(at + 20);
      const size = zip.readUInt32LE(at + 24);
      const nameLength = zip.readUInt16LE(at + 28);
      const extraLength = zip.readUInt16LE(at + 30);
      const commentLength = zip.readUInt16LE(at + 32);
      const local = zip.readUInt32LE(at + 42);
      const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
      at += 46 + nameLength + extraLength + commentLength;
      if (!/^[^/]+\.dist-info\/METADATA$/.test(name) || size > METADATA_MAX_BYTES) continue;
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const raw = zip.subarray(start, start + compressed);
      const text = (method === 8 ? inflateRawSync(raw) : raw).toString('utf8');
      // headers end at the first blank line (the description follows)
      for (const line of text.split(/\r?\n/)) {
        if (line === '') break;
        const m = /^Requires-Python:\s*(.+?)\s*$/i.exec(line);
        if (m) return m[1];
      }
      return null;
    }
    return null;
  } catch {
    return null;
  }
}
