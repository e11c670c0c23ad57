import { ApiError } from '../jsonapi/errors';
import { queryParam } from '../jsonapi/query';
import type { Query } from '../jsonapi/query';
import { CHANNELS } from '../releases/release.entity';
import type { Channel } from '../releases/release.entity';
import { parseLooseVersion } from '../releases/semver';
import { parseInstallId } from '../analytics/install-id';
import { parseUpgradeTarget } from '../upgrades/upgrade-params';
import type { FeedQuery, PlatformGroup, TauriBundle } from './feeds.service';
import { TAURI_BUNDLES } from './feeds.service';
import { normalizeArch, normalizeOs } from './platforms';

/** electron-builder's channel file names: `<channel>[-mac|-linux|-linux-arm64].yml`; `latest` is stable. */
const ELECTRON_FILE = /^(latest|stable|rc|beta|alpha|dev)(-mac|-linux|-linux-arm64)?\.yml$/;
const ELECTRON_GROUPS: Record<string, PlatformGroup> = {
  '': { os: 'windows' },
  '-mac': { os: 'darwin' },
  '-linux': { os: 'linux', arch: 'amd64' },
  '-linux-arm64': { os: 'linux', arch: 'arm64' },
};

export function isElectronFile(file: string): boolean {
  return ELECTRON_FILE.test(file);
}

export function parseElectronFile(file: string): { channel: Channel; group: PlatformGroup } {
  const m = ELECTRON_FILE.exec(file);
  if (!m) throw ApiError.notFound('Feed files are <channel>[-mac|-linux|-linux-arm64].yml, with channel latest, rc, beta, alpha or dev');
  return { channel: m[1] === 'latest' ? 'stable' : (m[1] as Channel), group: ELECTRON_GROUPS[m[2] ?? ''] };
}

/** `?version=` (or the updater's own name for it): the version the app runs, read loosely. */
function currentVersion(query: Query, name: string) {
  const raw = queryParam(query, name);
  if (raw === undefined || raw === '') return undefined;
  const version = parseLooseVersion(raw);
  if (!version) throw ApiError.invalidParameter(name, 'must be a version such as 1.2.3');
  return version;
}

/** The query of the electron and Sparkle feeds: `version`, `installId`, and (Sparkle) `channel`. */
export function parseFeedQuery(query: Query, channel?: Channel): FeedQuery {
  return {
    channel: channel ?? parseUpgradeTarget(query).channel,
    installId: parseInstallId(query),
    current: currentVersion(query, 'version'),
  };
}

/**
 * The Tauri updater's query: `target` (`linux`, `windows`, `darwin`/`macos`, or `<os>-<arch>`),
 * `arch` (`x86_64`, `aarch64`, `i686`, `armv7` and their aliases), `current_version`, `channel`.
 * Keygen's route names them `platform`, `arch` and `version`.
 */
export function parseTauriQuery(query: Query, names = { target: 'target', version: 'current_version' }): { group: PlatformGroup; query: FeedQuery } {
  const target = queryParam(query, names.target);
  if (!target) throw ApiError.invalidParameter(names.target, 'is required (linux, windows or darwin)');
  const [rawOs, rawArch] = target.toLowerCase().split('-', 2);
  const os = normalizeOs(rawOs);
  if (!os) throw ApiError.invalidParameter(names.target, 'must be linux, windows, darwin or macos');
  const arch = queryParam(query, 'arch') ?? rawArch;
  return {
    group: { os, arch: arch ? normalizeArch(arch) : undefined },
    query: { channel: parseUpgradeTarget(query).channel, installId: parseInstallId(query), current: currentVersion(query, names.version), bundleType: parseBundleType(query) },
  };
}

/** `bundle_type` (tauri-plugin-updater 2.10+): nsis, msi, deb, rpm, appimage or app; absent or empty: any. */
function parseBundleType(query: Query): TauriBundle | undefined {
  const raw = queryParam(query, 'bundle_type');
  if (raw === undefined || raw === '') return undefined;
  const bundle = raw.toLowerCase();
  if (!(TAURI_BUNDLES as readonly string[]).includes(bundle)) throw ApiError.invalidParameter('bundle_type', `must be one of ${TAURI_BUNDLES.join(', ')}`);
  return bundle as TauriBundle;
}

/** Velopack's default channels are the operating system's short name. */
const VELOPACK_OS: Record<string, string> = { win: 'windows', windows: 'windows', osx: 'darwin', mac: 'darwin', macos: 'darwin', linux: 'linux' };
const VELOPACK_OS_QUERY: Record<string, string> = { win: 'windows', windows: 'windows', osx: 'darwin', macos: 'darwin', linux: 'linux' };

/**
 * Velopack's `releases.<channel>.json`: a Shipgate channel (stable, rc, beta, alpha, dev; every
 * platform, or the one `?os=` names, as Velopack's C# client sends it), or Velopack's default
 * channel, the OS name (`win`, `osx`, `linux`: stable releases of that OS). `localVersion` is the
 * version the app runs, `stagingId` its staging id (rollouts, as installId).
 */
export function parseVelopackFeed(file: string, query: Query): { os: string | undefined; query: FeedQuery } {
  const m = /^releases\.([A-Za-z0-9_-]{1,32})\.json$/.exec(file);
  if (!m) throw ApiError.notFound('Velopack feed files are releases.<channel>.json');
  const name = m[1].toLowerCase();
  let channel: Channel = 'stable';
  let os: string | undefined;
  if ((CHANNELS as readonly string[]).includes(name)) {
    channel = name as Channel;
    const asked = queryParam(query, 'os');
    os = asked ? VELOPACK_OS_QUERY[asked.toLowerCase()] : undefined;
  } else if (VELOPACK_OS[name]) {
    os = VELOPACK_OS[name];
  } else {
    throw ApiError.notFound(`Unknown channel ${m[1]}: use stable, rc, beta, alpha, dev, or win, osx, linux`);
  }
  const staging = queryParam(query, 'stagingId');
  const installId = parseInstallId(query) ?? (staging && staging.length <= 64 ? staging : undefined);
  return { os, query: { channel, installId, current: currentVersion(query, 'localVersion') } };
}
