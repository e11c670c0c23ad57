import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as semver from 'semver';
import { fileProblem, isUuid, ShipgateClient, ShipgateError, usageError } from './client';
import type { ApiDocument, Resource } from './client';
import { uploadProgress } from './progress';

/** Where the command writes: the result on stdout, messages (and progress) on stderr. */
export interface Output {
  out(line: string): void;
  info(line: string): void;
}

export const consoleOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  info: (line) => process.stderr.write(`${line}\n`),
};

const one = (doc: ApiDocument): Resource => doc.data as Resource;
const many = (doc: ApiDocument): Resource[] => (doc.data as Resource[]) ?? [];
const q = (params: Record<string, string | undefined>) =>
  new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')).toString();

/** A product id, or a code looked up as `GET /products/<code>`. */
export async function resolveProduct(client: ShipgateClient, ref: string): Promise<string> {
  if (isUuid(ref)) return ref.toLowerCase();
  return one((await client.get(`/products/${encodeURIComponent(ref)}`)).body).id;
}

/** A release id, or a release found by filename or version (with product, platform, filetype to pick one). */
export async function resolveRelease(client: ShipgateClient, ref: string, narrow: { product?: string; platform?: string; filetype?: string } = {}): Promise<string> {
  if (isUuid(ref)) return ref.toLowerCase();
  const query = q({ product: narrow.product, platform: narrow.platform, filetype: narrow.filetype });
  return one((await client.get(`/releases/${encodeURIComponent(ref)}${query ? `?${query}` : ''}`)).body).id;
}

/** `tar.gz` of `app-1.0.0.tar.gz`, `dmg` of `App.dmg`: the filetype Shipgate expects for a filename. */
export function filetypeOf(filename: string): string {
  const base = path.basename(filename).toLowerCase();
  const m = /\.(tar\.(?:gz|bz2|xz|zst)|[a-z0-9]+\.blockmap|[a-z0-9]+)$/.exec(base);
  return m ? m[1] : 'bin';
}

/** The file's size and SHA-256 and SHA-512 (hex), read as a stream. */
export async function digestFile(file: string): Promise<{ size: number; sha256: string; sha512: string }> {
  const h256 = createHash('sha256');
  const h512 = createHash('sha512');
  let size = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1024 * 1024 })) {
    h256.update(chunk as Buffer);
    h512.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: h256.digest('hex'), sha512: h512.digest('hex') };
}

export function describeRelease(r: Resource): string {
  const a = r.attributes;
  const lines = [
    `release ${r.id}`,
    `  version   ${a.version} (${a.channel})`,
    `  platform  ${a.platform}`,
    `  file      ${a.filename} (${a.filetype}, ${a.filesize ?? '?'} bytes)`,
    `  status    ${a.status}${a.yanked ? ` since ${a.yanked}` : ''}`,
  ];
  if (a.checksum) lines.push(`  checksum  ${a.checksum}`);
  return lines.join('\n');
}

export interface PublishOptions {
  product: string;
  version: string;
  platform: string;
  channel: string;
  filename?: string;
  filetype?: string;
  name?: string;
  description?: string;
  signature?: string;
  checksum?: string;
  metadata?: string;
  yankPrevious?: boolean;
  json?: boolean;
}

export function checkVersion(version: string): void {
  if (!semver.valid(version)) throw usageError(`--version ${version} is not a semver version such as 1.2.0`);
}

/** `--metadata '{"k":"v"}'`, parsed (the server checks its shape). */
export function parseMetadata(json: string | undefined): unknown {
  if (json === undefined) return undefined;
  try {
    return JSON.parse(json);
  } catch {
    throw usageError('--metadata must be a JSON object');
  }
}

/** `sha-256=:<base64>:, sha-512=:<base64>:` (RFC 9530): the digests the server checks the bytes against. */
export function contentDigest(digest: { sha256: string; sha512: string }): string {
  return `sha-256=:${Buffer.from(digest.sha256, 'hex').toString('base64')}:, sha-512=:${Buffer.from(digest.sha512, 'hex').toString('base64')}:`;
}

/** The release of this product with the same version, platform, channel and filetype, if any. */
async function findSame(client: ShipgateClient, productId: string, o: PublishOptions, filetype: string): Promise<Resource | undefined> {
  const res = await client.get(`/releases?${q({ product: productId, version: o.version, platform: o.platform, filetype, 'page[size]': '100' })}`);
  return many(res.body).find((r) => r.attributes.channel === o.channel);
}

/**
 * `shipgate publish <file>`: creates the release (or reuses the one with the same version,
 * platform, channel and filetype when its file is this file, or when it has no file yet), streams
 * the file with a Content-Digest, and prints the release. A release that already holds another
 * file is an error: versions are immutable. `--yank-previous` then yanks the release this one
 * replaces (the highest published lower version of the same product, platform, channel, filetype).
 */
export async function publish(client: ShipgateClient, file: string, o: PublishOptions, output: Output): Promise<Resource> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
    if (stat.isFile()) fs.accessSync(file, fs.constants.R_OK);
  } catch (error) {
    throw new ShipgateError(`cannot read ${file}: ${fileProblem(error)}`);
  }
  if (!stat.isFile()) throw new ShipgateError(`cannot read ${file}: it is not a file`);
  checkVersion(o.version);
  const metadata = parseMetadata(o.metadata);
  const productId = await resolveProduct(client, o.product);
  const filename = o.filename ?? path.basename(file);
  const filetype = o.filetype ?? filetypeOf(filename);
  const digest = await digestFile(file);

  let release = await findSame(client, productId, o, filetype);
  if (release) {
    const artifact = await client.request('GET', `/releases/${release.id}/artifact`, { headers: { Prefer: 'no-redirect' }, accept: [404] });
    const uploaded = artifact.status === 200 ? one(artifact.body) : undefined;
    if (uploaded?.attributes.sha256 === digest.sha256) {
      output.info(`${o.version} (${o.platform}, ${o.channel}, ${filetype}) is already published with this file: nothing to upload`);
      return finish(client, release.id, productId, o, filetype, output);
    }
    if (uploaded) {
      throw new ShipgateError(
        `release ${release.id} (${o.version}, ${o.platform}, ${o.channel}, ${filetype}) already holds another file (sha256 ${uploaded.attributes.sha256}); versions are immutable: publish a new version`,
      );
    }
    if (release.attributes.filename !== filename) output.info(`reusing release ${release.id}; its file will be named ${release.attributes.filename}`);
    else output.info(`reusing release ${release.id} (created before, without its file)`);
  } else {
    const attributes: Record<string, unknown> = { version: o.version, channel: o.channel, platform: o.platform, filename, filetype, filesize: digest.size };
    for (const k of ['name', 'description', 'signature', 'checksum'] as const) if (o[k] !== undefined) attributes[k] = o[k];
    if (metadata !== undefined) attributes.metadata = metadata;
    try {
      release = one(
        (await client.post('/releases', { data: { type: 'releases', attributes, relationships: { product: { data: { type: 'products', id: productId } } } } })).body,
      );
      output.info(`created release ${release.id}`);
    } catch (error) {
      // another run created it meanwhile: take that one
      if (!(error instanceof ShipgateError && error.code === 'VERSION_TAKEN')) throw error;
      release = await findSame(client, productId, o, filetype);
      if (!release) throw error;
    }
  }

  const progress = uploadProgress(`upload ${filename}`, digest.size);
  try {
    await client.putStream(`/releases/${release.id}/artifact`, fs.createReadStream(file, { highWaterMark: 1024 * 1024 }), digest.size, {
      headers: { 'Content-Digest': contentDigest(digest) },
      onProgress: (sent) => progress.update(sent),
    });
  } finally {
    progress.stop();
  }
  return finish(client, release.id, productId, o, filetype, output);
}

async function finish(client: ShipgateClient, releaseId: string, productId: string, o: PublishOptions, filetype: string, output: Output): Promise<Resource> {
  const doc = (await client.get(`/releases/${releaseId}`)).body;
  const release = one(doc);
  if (o.yankPrevious) {
    const res = await client.get(`/releases?${q({ product: productId, platform: o.platform, filetype, status: 'PUBLISHED', sort: '-version', 'page[size]': '100' })}`);
    const previous = many(res.body).find((r) => r.attributes.channel === o.channel && semver.lt(String(r.attributes.version), o.version));
    if (previous) {
      await client.post(`/releases/${previous.id}/actions/yank`);
      output.info(`yanked the previous release ${previous.attributes.version} (${previous.id})`);
    } else {
      output.info('no previous release to yank');
    }
  }
  output.out(o.json ? JSON.stringify(doc, null, 2) : describeRelease(release));
  return release;
}

/** Columns of `releases list`. */
export function releaseTable(releases: Resource[]): string {
  const rows = [['VERSION', 'CHANNEL', 'PLATFORM', 'FILETYPE', 'STATUS', 'DOWNLOADS', 'CREATED', 'ID']];
  for (const r of releases) {
    const a = r.attributes;
    rows.push([a.version, a.channel, a.platform, a.filetype, a.status, a.downloads, String(a.created ?? '').slice(0, 19).replace('T', ' '), r.id].map((v) => String(v ?? '')));
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n');
}
