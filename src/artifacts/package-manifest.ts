import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Parser } from 'tar';
import type { ReadEntry } from 'tar';

/** An npm tarball's package.json is read only up to this size (npm's own limit is far below). */
const PACKAGE_JSON_MAX_BYTES = 1024 * 1024;

/** What the npm engine needs of a tarball, read once at upload: its package.json and sha1. */
export interface TarballManifest {
  packageJson: Record<string, unknown>;
  sha1: string;
}

/**
 * Whether an artifact's file is read for a manifest at upload: a `.tgz` (what npm pack writes) of
 * a release in a package (other tarballs are not read again after they are stored).
 */
export function hasManifest(filename: string, release: { packageId: string | null }): boolean {
  return release.packageId !== null && filename.toLowerCase().endsWith('.tgz');
}

/**
 * Reads `package/package.json` out of an `npm pack` tarball (gzip'd tar, with the maintained `tar`
 * reader) and the file's sha1, in one pass over the stored bytes. Null when the file is not such a
 * tarball (it is then served as a plain file, not as an npm version).
 */
export function readTarballManifest(source: Readable): Promise<TarballManifest | null> {
  return new Promise((resolve) => {
    const sha1 = createHash('sha1');
    let json: string | null = null;
    let failed = false;
    const parser = new Parser({ strict: false });
    parser.on('entry', (entry: ReadEntry) => {
      // npm pack puts every file under package/
      if (entry.path !== 'package/package.json' || entry.size > PACKAGE_JSON_MAX_BYTES) return entry.resume();
      const chunks: Buffer[] = [];
      entry.on('data', (c: Buffer) => chunks.push(c));
      entry.on('end', () => (json = Buffer.concat(chunks).toString('utf8')));
    });
    parser.on('warn', () => undefined);
    parser.on('error', () => (failed = true));
    source.on('data', (chunk: Buffer) => sha1.update(chunk));
    source.on('error', () => resolve(null));
    parser.on('close', () => {
      if (failed || json === null) return resolve(null);
      try {
        const packageJson = JSON.parse(json) as unknown;
        if (!packageJson || typeof packageJson !== 'object' || Array.isArray(packageJson)) return resolve(null);
        resolve({ packageJson: packageJson as Record<string, unknown>, sha1: sha1.digest('hex') });
      } catch {
        resolve(null);
      }
    });
    source.pipe(parser);
  });
}
