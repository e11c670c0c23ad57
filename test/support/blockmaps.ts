import { createCipheriv, createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { buildBlockMap } from 'app-builder-lib/out/targets/blockmap/blockmap';
import { CancellationToken, HttpExecutor } from 'builder-util-runtime';
import type { BlockMap } from 'builder-util-runtime/out/blockMapApi';
import { GenericDifferentialDownloader } from 'electron-updater/out/differentialDownloader/GenericDifferentialDownloader';

/**
 * electron-builder's blockmaps and electron-updater's differential download, for e2e tests: the
 * blockmaps come from electron-builder's own code (app-builder-lib's `buildBlockMap`, what it runs
 * beside every NSIS, AppImage or dmg it builds), the download is electron-updater's own
 * `GenericDifferentialDownloader`, which asks the server for the changed blocks with Range
 * requests (several ranges per request unless `multipleRanges` is false).
 */

/** A file with the `.blockmap` electron-builder writes beside it. */
export interface BlockMappedFile {
  path: string;
  /** `<path>.blockmap`: gzip-compressed JSON, as electron-builder publishes it. */
  blockMapPath: string;
  size: number;
  /** Base64, as in electron-builder's `latest.yml`. */
  sha512: string;
  blockMap: BlockMap;
}

/** Bytes that look random but are the same on every run for the same seed (AES-CTR of zeros). */
export function seededBytes(size: number, seed: string): Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

/**
 * Two versions of an installer: `next` is `previous` with `edits` changes spread evenly over it,
 * alternately 200 bytes overwritten and 1000 bytes inserted (which shifts what follows, as a
 * rebuilt installer does; content-defined blocks resynchronise after it).
 */
export function twoVersions(size: number, edits: number, seed = 'shipgate'): { previous: Buffer; next: Buffer } {
  const previous = seededBytes(size, `${seed}-previous`);
  const pieces: Buffer[] = [];
  let at = 0;
  for (let i = 0; i < edits; i++) {
    const position = Math.floor(((i + 0.5) * size) / edits);
    pieces.push(previous.subarray(at, position));
    const fresh = seededBytes(i % 2 ? 1000 : 200, `${seed}-edit-${i}`);
    pieces.push(fresh);
    at = i % 2 ? position : Math.min(size, position + fresh.length);
  }
  pieces.push(previous.subarray(at));
  return { previous, next: Buffer.concat(pieces) };
}

/** Writes `bytes` to `path` and its blockmap beside it, with electron-builder's code. */
export async function writeBlockMapped(path: string, bytes: Buffer): Promise<BlockMappedFile> {
  fs.writeFileSync(path, bytes);
  const blockMapPath = `${path}.blockmap`;
  const { size, sha512 } = await buildBlockMap(path, 'gzip', blockMapPath);
  return { path, blockMapPath, size: size ?? bytes.length, sha512, blockMap: readBlockMap(fs.readFileSync(blockMapPath)) };
}

/** A downloaded `.blockmap`, read as electron-updater reads it (AppUpdater.differentialDownloadInstaller). */
export function readBlockMap(data: Buffer): BlockMap {
  return JSON.parse(gunzipSync(data).toString()) as BlockMap;
}

/**
 * electron-builder's Node executor, as its own `NodeHttpExecutor` does it: plain http.request.
 * `followRedirects` makes it follow 3xx answers with the same headers (Range included), as
 * Electron's `net` does in an app (electron-updater's differential downloader counts on it).
 */
export class NodeExecutor extends HttpExecutor<http.ClientRequest> {
  constructor(private readonly followRedirects = false) {
    super();
  }

  createRequest(options: http.RequestOptions, callback: (response: http.IncomingMessage) => void): http.ClientRequest {
    if (!this.followRedirects) return http.request(options, callback);
    const first = http.request(options, (response) => follow(response, new URL(options.path ?? '/', `http://${options.hostname}:${options.port}`), 5));
    const follow = (response: http.IncomingMessage, from: URL, hops: number): void => {
      const location = response.headers.location;
      if (!location || response.statusCode! < 300 || response.statusCode! >= 400 || hops === 0) return callback(response);
      response.resume();
      const to = new URL(location, from);
      const next = http.request(to, { method: 'GET', headers: options.headers }, (r) => follow(r, to, hops - 1));
      next.on('error', (error) => first.emit('error', error));
      next.end();
    };
    return first;
  }
}

export interface DifferentialUpdate {
  /** The installed (old) file, with its blockmap. */
  previous: BlockMappedFile;
  /** The new version's blockmap, size and sha512 (what the update feed and its `.blockmap` tell). */
  next: Pick<BlockMappedFile, 'size' | 'sha512' | 'blockMap'>;
  /** The new file's download URL. */
  url: string;
  /** Where the updated file is written. */
  out: string;
  /** electron-updater's `isUseMultipleRangeRequest` (the generic provider's default is true). */
  multipleRanges: boolean;
  requestHeaders?: Record<string, string>;
  /** Follow redirects as Electron's `net` does (NodeExecutor), for URLs that answer 303 to a signed one. */
  followRedirects?: boolean;
}

/**
 * Updates `previous` to the new version as electron-updater does: the blocks both versions share
 * are copied from the old file, the others downloaded from `url`; the result is checked against
 * the new sha512 (it rejects otherwise). Resolves with what electron-updater logged.
 */
export async function updateDifferentially(update: DifferentialUpdate): Promise<string[]> {
  const log: string[] = [];
  const logger = {
    info: (m: unknown) => void log.push(`info: ${String(m)}`),
    warn: (m: unknown) => void log.push(`warn: ${String(m)}`),
    error: (m: unknown) => void log.push(`error: ${String(m)}`),
  };
  const downloader = new GenericDifferentialDownloader({ size: update.next.size, sha512: update.next.sha512 }, new NodeExecutor(update.followRedirects), {
    newUrl: new URL(update.url),
    oldFile: update.previous.path,
    newFile: update.out,
    logger,
    requestHeaders: update.requestHeaders ?? null,
    isUseMultipleRangeRequest: update.multipleRanges,
    cancellationToken: new CancellationToken(),
  });
  await downloader.download(update.previous.blockMap, update.next.blockMap);
  return log;
}

/** One request through the recording proxy and what came back. */
export interface ProxiedExchange {
  method: string;
  path: string;
  range: string | undefined;
  status: number;
  contentType: string | undefined;
  /** Response body bytes. */
  bytes: number;
}

/**
 * A plain HTTP proxy in front of `target` that records every exchange (the Range asked for, the
 * status and type answered, the body bytes sent back), to tell what a client really transferred.
 */
export async function startRecordingProxy(target: string): Promise<{ url: string; exchanges: ProxiedExchange[]; close(): Promise<void> }> {
  const exchanges: ProxiedExchange[] = [];
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    const forwarded = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        const exchange: ProxiedExchange = {
          method: req.method!,
          path: req.url!,
          range: req.headers.range,
          status: answer.statusCode!,
          contentType: answer.headers['content-type'],
          bytes: 0,
        };
        exchanges.push(exchange);
        answer.on('data', (chunk: Buffer) => (exchange.bytes += chunk.length));
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', () => res.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
