import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { dump } from 'js-yaml';

/**
 * The files `electron-builder --win nsis --publish always` hands its publisher for one version,
 * written to `dir` with electron-builder's names and channel-file shape:
 *
 * - `<productName> Setup <version>.exe`: the installer (random bytes here; NSIS's own name pattern,
 *   spaces included, which is what a Keygen publish uploads: only the GitHub publisher swaps in a
 *   "safe" dashed name);
 * - `<installer>.blockmap`: its block map (gzip'd JSON, format "2");
 * - `<channel>.yml` (`latest.yml` without a channel): version, files [{url, sha512, size}],
 *   path, sha512, releaseDate, as app-builder-lib's updateInfoBuilder writes it (sha512 base64).
 *
 * The block map here is a stand-in with electron-builder's file format and fixed 16 KiB blocks:
 * this file proves publishing and downloading it, not the differential update, which needs
 * app-builder-lib's content-defined chunking (test/support/blockmaps.ts on the differential branch).
 */
export interface ElectronBuild {
  version: string;
  installer: string;
  blockmap: string;
  channelFile: string;
  installerBytes: Buffer;
  blockmapBytes: Buffer;
  channelFileBytes: Buffer;
  /** sha512 of the installer, base64 (as in the channel file). */
  sha512: string;
  /** The channel file's releaseDate (when the build ran). */
  releaseDate: string;
}

const BLOCK = 16 * 1024;

function standInBlockMap(bytes: Buffer): Buffer {
  const checksums: string[] = [];
  const sizes: number[] = [];
  for (let offset = 0; offset < bytes.length; offset += BLOCK) {
    const block = bytes.subarray(offset, offset + BLOCK);
    checksums.push(createHash('sha256').update(block).digest().subarray(0, 18).toString('base64'));
    sizes.push(block.length);
  }
  return zlib.gzipSync(Buffer.from(JSON.stringify({ version: '2', files: [{ name: 'file', offset: 0, checksums, sizes }] })), { level: 9 });
}

export function writeNsisBuild(dir: string, options: { productName: string; version: string; channel?: string; size?: number }): ElectronBuild {
  fs.mkdirSync(dir, { recursive: true });
  const installerName = `${options.productName} Setup ${options.version}.exe`;
  const installerBytes = randomBytes(options.size ?? 256 * 1024);
  const sha512 = createHash('sha512').update(installerBytes).digest('base64');
  const blockmapBytes = standInBlockMap(installerBytes);
  const releaseDate = new Date().toISOString();
  const info = {
    version: options.version,
    files: [{ url: installerName, sha512, size: installerBytes.length }],
    path: installerName,
    sha512,
    releaseDate,
  };
  const channelFileBytes = Buffer.from(dump(info, { lineWidth: 8000, noRefs: true }));
  const installer = path.join(dir, installerName);
  const blockmap = `${installer}.blockmap`;
  const channelFile = path.join(dir, `${options.channel ?? 'latest'}.yml`);
  fs.writeFileSync(installer, installerBytes);
  fs.writeFileSync(blockmap, blockmapBytes);
  fs.writeFileSync(channelFile, channelFileBytes);
  return { version: options.version, installer, blockmap, channelFile, installerBytes, blockmapBytes, channelFileBytes, sha512, releaseDate };
}
