import { INCLUSIVE_CHANNELS } from '../../releases/semver';
import { CHANNELS } from '../../releases/release.entity';
import type { PackageFile, PackageVersion } from '../package-catalogue';

/** What the server read from an npm tarball at upload (artifacts/package-manifest.ts). */
export interface NpmManifest {
  packageJson: Record<string, unknown>;
  sha1: string;
}

/** The npm tarball of a version: an uploaded `.tgz` whose package.json was read at upload. */
export function npmFile(v: PackageVersion): (PackageFile & { manifest: NpmManifest }) | null {
  for (const f of v.files) {
    const m = f.artifact.manifest as NpmManifest | null;
    if (m?.packageJson && f.artifact.sha512) return { ...f, manifest: m };
  }
  return null;
}

/** Fields of package.json a registry never passes on as they are (npm's own publish drops or rewrites them). */
const DROPPED = new Set(['_id', '_resolved', '_integrity', '_from', 'dist', 'readme', 'readmeFilename', 'gitHead', 'scripts_']);

/**
 * The packument npm reads (`{name, dist-tags, versions, time}`): one version per release with an
 * npm tarball, `dist` with the tarball URL, `integrity` (sha512, base64) and `shasum` (sha1);
 * `dist-tags.latest` the highest stable version, one tag per other channel that has a release
 * (its highest version among the channels it takes in, as update checks read channels), and each
 * release's own `tag`.
 */
export function renderPackument(key: string, versions: readonly PackageVersion[], tarballUrl: (artifactId: string, filename: string) => string): Record<string, unknown> | null {
  const out: Record<string, unknown> = {};
  const time: Record<string, string> = {};
  const tags: Record<string, string> = {};
  const channelsPresent = new Set<string>();
  let created: Date | null = null;
  let modified: Date | null = null;
  // highest precedence first: the first version of a channel is its tag
  for (const v of versions) {
    const file = npmFile(v);
    if (!file) continue;
    const r = v.release;
    if (out[r.version]) continue;
    const manifest: Record<string, unknown> = {};
    for (const [k, value] of Object.entries(file.manifest.packageJson)) if (!DROPPED.has(k)) manifest[k] = value;
    out[r.version] = {
      ...manifest,
      name: key,
      version: r.version,
      _id: `${key}@${r.version}`,
      dist: {
        tarball: tarballUrl(file.artifact.id, file.artifact.filename),
        integrity: `sha512-${Buffer.from(file.artifact.sha512!, 'hex').toString('base64')}`,
        shasum: file.manifest.sha1,
      },
    };
    time[r.version] = r.created.toISOString();
    if (!created || r.created < created) created = r.created;
    if (!modified || r.updated > modified) modified = r.updated;
    channelsPresent.add(r.channel);
    if (r.tag && r.tag !== 'latest' && !tags[r.tag]) tags[r.tag] = r.version;
  }
  if (!Object.keys(out).length) return null;
  const distTags: Record<string, string> = {};
  for (const channel of CHANNELS) {
    if (!channelsPresent.has(channel)) continue;
    const name = channel === 'stable' ? 'latest' : channel;
    const top = versions.find((v) => out[v.release.version] && INCLUSIVE_CHANNELS[channel].includes(v.release.channel));
    if (top) distTags[name] = top.release.version;
  }
  // npm needs a latest: without a stable version, the highest of any channel but dev
  if (!distTags.latest) {
    const top = versions.find((v) => out[v.release.version] && v.release.channel !== 'dev') ?? versions.find((v) => out[v.release.version]);
    if (top) distTags.latest = top.release.version;
  }
  for (const [tag, version] of Object.entries(tags)) if (!(tag in distTags)) distTags[tag] = version;
  return { _id: key, name: key, 'dist-tags': distTags, versions: out, time: { created: created!.toISOString(), modified: modified!.toISOString(), ...time } };
}
