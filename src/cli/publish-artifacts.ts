import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileProblem, ShipgateClient, ShipgateError, usageError } from './client';
import type { ApiDocument, Resource } from './client';
import { checkVersion, contentDigest, digestFile, parseMetadata, resolveProduct } from './commands';
import type { Output } from './commands';
import { uploadProgressGroup } from './progress';
import { wheelRequiresPython } from './wheel-metadata';
import type { ProgressGroup } from './progress';

/**
 * `shipgate publish a.exe a.exe.blockmap latest.yml --version 1.2.0 ...`: one release of many
 * artifacts (API 1.1), as electron-builder's Keygen publisher makes them. Each file is digested,
 * created as an artifact (`POST /artifacts`, `Prefer: no-redirect`) and streamed to its signed
 * upload URL with a Content-Digest, a few at a time. A file that fails is reported and the others
 * still finish; a file the release already holds with the same SHA-256 is skipped, so a re-run
 * of a CI job publishes only what is missing.
 */

export interface PublishArtifactsOptions {
  /** Product id or code; may be left out with `package` (the package's product). */
  product?: string;
  /** A package's key or id: the release is that package's version (docs/packages.md). */
  package?: string;
  version: string;
  channel: string;
  platform?: string;
  arch?: string;
  tag?: string;
  draft?: boolean;
  name?: string;
  description?: string;
  metadata?: string;
  concurrency?: string;
  json?: boolean;
}

/** One file to publish: the argument as given, its path, and the artifact's name, platform and arch. */
export interface ArtifactFile {
  arg: string;
  file: string;
  filename: string;
  platform?: string;
  arch?: string;
}

/** How one file ended. */
type Outcome = { kind: 'uploaded' | 'skipped' } | { kind: 'failed'; error: ShipgateError };

export const DEFAULT_CONCURRENCY = 3;
/** A platform or arch as the server accepts it (lowercase letters, digits, `. _ + -`). */
const PLATFORM_PART = /^[a-z0-9][a-z0-9._+-]*$/;

/** `--platform linux/amd64`, or `--platform linux --arch amd64`: the artifacts' platform and arch. */
export function platformAndArch(platform: string | undefined, arch: string | undefined): { platform?: string; arch?: string } {
  if (!platform?.includes('/')) return { platform, arch };
  const [os, own] = platform.split('/', 2);
  if (arch !== undefined && arch !== own) throw usageError(`--platform ${platform} and --arch ${arch} disagree: give the arch once`);
  return { platform: os, arch: own || undefined };
}

/**
 * `dist/App.exe@windows/amd64` (or `@windows`): the file, with its own platform and arch in place
 * of --platform and --arch. An argument that names an existing file is that file, `@` and all.
 */
export function parseFileArgument(arg: string, defaults: { platform?: string; arch?: string }): ArtifactFile {
  const m = /^(.+)@([^@/]+)(?:\/([^@/]+))?$/.exec(arg);
  if (m && !fs.existsSync(arg) && PLATFORM_PART.test(m[2]) && (m[3] === undefined || PLATFORM_PART.test(m[3]))) {
    return { arg, file: m[1], filename: path.basename(m[1]), platform: m[2], arch: m[3] };
  }
  return { arg, file: arg, filename: path.basename(arg), ...defaults };
}

/** Why a file cannot be published (missing, unreadable, a directory), or null. */
function unreadable(file: string): ShipgateError | null {
  try {
    if (!fs.statSync(file).isFile()) return new ShipgateError(`cannot read ${file}: it is not a file`);
    fs.accessSync(file, fs.constants.R_OK);
    return null;
  } catch (error) {
    return cannotRead(file, error);
  }
}

/** Runs `work` over `items`, at most `limit` at a time; results in the items' order. */
async function eachLimited<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Every page of a list (the server's `links.next`). */
async function all(client: ShipgateClient, first: string): Promise<Resource[]> {
  const items: Resource[] = [];
  for (let next: string | null = first; next; ) {
    const doc: ApiDocument = (await client.get(next)).body;
    items.push(...((doc.data as Resource[]) ?? []));
    const link = doc.links?.next;
    // links are paths from the host (/v1/accounts/...): made absolute against the server's URL
    next = typeof link === 'string' && link ? new URL(link, client.connection.url).toString() : null;
  }
  return items;
}

const artifactsOf = (client: ShipgateClient, releaseId: string) => all(client, `/releases/${releaseId}/artifacts?sort=created&page[size]=100`);

/**
 * The 1.1 release of this version: created (PUBLISHED unless --draft), or the one that exists.
 * Creating first: `422 VERSION_TAKEN` is the server's own word that a 1.1 release of this version
 * exists (a lookup by version would also find 1.0 releases, which take no artifacts), and two CI
 * jobs publishing the same version at once end up with one release.
 */
async function releaseFor(client: ShipgateClient, productId: string, packageId: string | null, o: PublishArtifactsOptions, output: Output): Promise<Resource> {
  const attributes: Record<string, unknown> = { version: o.version, channel: o.channel, status: o.draft ? 'DRAFT' : 'PUBLISHED' };
  const relationships: Record<string, unknown> = { product: { data: { type: 'products', id: productId } } };
  if (packageId) relationships.package = { data: { type: 'packages', id: packageId } };
  for (const k of ['name', 'description', 'tag'] as const) if (o[k] !== undefined) attributes[k] = o[k];
  const metadata = parseMetadata(o.metadata);
  if (metadata !== undefined) attributes.metadata = metadata;
  try {
    const created = (await client.post('/releases', { data: { type: 'releases', attributes, relationships } })).body.data as Resource;
    output.info(`created release ${created.id} (${o.version}, ${created.attributes.status})`);
    return created;
  } catch (error) {
    if (!(error instanceof ShipgateError && error.code === 'VERSION_TAKEN')) throw error;
  }
  // a version is unique per product and package: the package's own release of it
  const found = packageId
    ? ((await client.get(`/releases?product=${productId}&package=${packageId}&version=${encodeURIComponent(o.version)}&limit=1`)).body.data as Resource[])[0]
    : ((await client.get(`/releases/${encodeURIComponent(o.version)}?product=${productId}`)).body.data as Resource);
  if (!found) throw new ShipgateError(`version ${o.version} is taken by a release of another package of this product`);
  output.info(`reusing release ${found.id} (${found.attributes.version}, ${found.attributes.status})`);
  return found;
}

/** The release and its artifacts, as a few lines. */
export function describeArtifactRelease(release: Resource, artifacts: Resource[]): string {
  const a = release.attributes;
  const lines = [
    `release ${release.id}`,
    `  version   ${a.version} (${a.channel})${a.tag ? `, tag ${a.tag}` : ''}`,
    `  status    ${a.status}${a.yanked ? ` since ${a.yanked}` : ''}`,
    `  artifacts ${artifacts.length}`,
  ];
  const rows = artifacts.map((r) => {
    const x = r.attributes;
    const platform = x.platform ? `${x.platform}${x.arch ? `/${x.arch}` : ''}` : '-';
    return [String(x.filename), platform, `${x.filesize ?? '?'} bytes`, String(x.status), x.sha256 ? `sha256 ${x.sha256}` : ''];
  });
  const widths = rows.length ? rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length))) : [];
  for (const row of rows) lines.push(`    ${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')}`.trimEnd());
  return lines.join('\n');
}

export async function publishArtifacts(
  connection: ShipgateClient,
  args: string[],
  o: PublishArtifactsOptions,
  output: Output,
): Promise<void> {
  checkVersion(o.version);
  parseMetadata(o.metadata);
  const files = args.map((arg) => parseFileArgument(arg, platformAndArch(o.platform, o.arch)));
  const byName = new Map<string, ArtifactFile>();
  for (const f of files) {
    const twin = byName.get(f.filename);
    if (twin) throw usageError(`${twin.arg} and ${f.arg} would both be ${f.filename} in the release: an artifact's name is unique in its release`);
    byName.set(f.filename, f);
  }
  const outcomes = new Map<ArtifactFile, Outcome>();
  // files that cannot be read fail before the server hears of them
  for (const f of files) {
    const problem = unreadable(f.file);
    if (problem) outcomes.set(f, { kind: 'failed', error: problem });
  }
  const readable = files.filter((f) => !outcomes.has(f));

  let release: Resource | undefined;
  if (readable.length) {
    const client = connection.withApiVersion('1.1');
    const target = await productAndPackage(client, o);
    release = await releaseFor(client, target.productId, target.packageId, o, output);
    const releaseId = release.id;
    const existing = new Map((await artifactsOf(client, releaseId)).map((a) => [String(a.attributes.filename), a]));
    const bars = uploadProgressGroup(Math.max(...readable.map((f) => f.filename.length)) + 'upload '.length);

    const publishFile = async (f: ArtifactFile): Promise<Outcome> => {
      let digest: Awaited<ReturnType<typeof digestFile>>;
      try {
        digest = await digestFile(f.file);
      } catch (error) {
        return { kind: 'failed', error: cannotRead(f.file, error) };
      }
      try {
        const held = existing.get(f.filename);
        // an artifact whose upload did not arrive (WAITING, FAILED) is asked for again: the server gives it a new upload URL
        if (held && held.attributes.status !== 'WAITING' && held.attributes.status !== 'FAILED') return skipOrRefuse(held, digest.sha256, o.version, bars, f.filename);
        const attributes: Record<string, unknown> = { filename: f.filename, filesize: digest.size };
        if (f.platform !== undefined) attributes.platform = f.platform;
        if (f.arch !== undefined) attributes.arch = f.arch;
        // a wheel's Requires-Python, which the PyPI engine shows pip (data-requires-python)
        const requiresPython = f.filename.endsWith('.whl') ? wheelRequiresPython(f.file) : null;
        if (requiresPython) attributes.metadata = { requiresPython };
        const created = await client.request('POST', '/artifacts', {
          headers: { Prefer: 'no-redirect' },
          body: { data: { type: 'artifacts', attributes, relationships: { release: { data: { type: 'releases', id: releaseId } } } } },
        });
        const artifact = created.body.data as Resource;
        const url = (artifact.links?.redirect as string | undefined) ?? created.headers.get('location');
        if (!url) throw new ShipgateError(`the server gave no upload URL for artifact ${artifact.id}`);
        const bar = bars.add(`upload ${f.filename}`, digest.size);
        const stored = await client.putStream(url, fs.createReadStream(f.file, { highWaterMark: 1024 * 1024 }), digest.size, {
          headers: { 'Content-Digest': contentDigest(digest) },
          onProgress: (sent) => bar.update(sent),
          // the signed URL is the credential; the token stays with the API (an S3 URL is another host)
          authorization: null,
        });
        bar.stop();
        const sha256 = (stored.body?.data as Resource | undefined)?.attributes.sha256;
        if (sha256 !== undefined && sha256 !== digest.sha256) throw new ShipgateError(`the server stored sha256 ${sha256}, not the file's ${digest.sha256}`);
        return { kind: 'uploaded' };
      } catch (error) {
        return { kind: 'failed', error: aboutFile(f.filename, error) };
      }
    };

    const results = await eachLimited(readable, Number(o.concurrency ?? DEFAULT_CONCURRENCY), publishFile);
    bars.stop();
    readable.forEach((f, i) => outcomes.set(f, results[i]));

    const doc = (await client.get(`/releases/${releaseId}${o.json ? '?include=artifacts' : ''}`)).body;
    output.out(o.json ? JSON.stringify(doc, null, 2) : describeArtifactRelease(doc.data as Resource, await artifactsOf(client, releaseId)));
  }

  const failed = files.filter((f) => outcomes.get(f)?.kind === 'failed');
  if (!failed.length) return;
  const errors = failed.map((f) => (outcomes.get(f) as { error: ShipgateError }).error);
  for (const error of errors) output.info(`shipgate: ${error.message}`);
  const names = failed.map((f) => f.filename).join(', ');
  const summary = release ? `${failed.length} of ${files.length} files not published to release ${o.version}: ${names}` : `no file can be read (${names}): nothing was published`;
  // the exit code of the first file's failure, in the command line's order
  throw new ShipgateError(summary, errors[0].status, errors[0].code, errors[0].exitCode);
}

/** The product (and package) a release goes to: `--package` names its product unless `--product` does too (then they must agree). */
async function productAndPackage(client: ShipgateClient, o: PublishArtifactsOptions): Promise<{ productId: string; packageId: string | null }> {
  if (o.package === undefined) {
    if (o.product === undefined) throw usageError('give --product (or --package)');
    return { productId: await resolveProduct(client, o.product), packageId: null };
  }
  const pkg = (await client.get(`/packages/${encodeURIComponent(o.package)}`)).body.data as Resource;
  const productId = (pkg.relationships?.product as { data: { id: string } }).data.id;
  if (o.product !== undefined && (await resolveProduct(client, o.product)) !== productId) throw usageError(`package ${o.package} belongs to another product than ${o.product}`);
  return { productId, packageId: pkg.id };
}

function cannotRead(file: string, error: unknown): ShipgateError {
  return new ShipgateError(`cannot read ${file}: ${fileProblem(error)}`);
}

/** An error about one file, naming it (`a.exe: 422 FILENAME_INVALID: ...`), with the exit code of its kind. */
function aboutFile(filename: string, error: unknown): ShipgateError {
  if (error instanceof ShipgateError) return new ShipgateError(`${filename}: ${error.message}`, error.status, error.code, error.exitCode);
  return new ShipgateError(`${filename}: unexpected error: ${(error as Error)?.stack ?? String(error)}`);
}

/**
 * A file whose name the release already holds uploaded or yanked: skipped when the stored bytes
 * are the same (a re-run), otherwise refused: versions are immutable.
 */
function skipOrRefuse(held: Resource, sha256: string, version: string, bars: ProgressGroup, filename: string): Outcome {
  const { status, sha256: stored } = held.attributes;
  if (status === 'UPLOADED' && stored === sha256) {
    bars.log(`${filename} is already uploaded with this content: skipped`);
    return { kind: 'skipped' };
  }
  if (status === 'UPLOADED') throw new ShipgateError(`release ${version} already holds another file of this name (sha256 ${stored}); versions are immutable: publish a new version`);
  throw new ShipgateError(`release ${version} has a yanked artifact of this name (${held.id}); a name is not reused in a release: publish a new version`);
}
