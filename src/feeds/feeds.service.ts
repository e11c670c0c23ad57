import { Inject, Injectable } from '@nestjs/common';
import { XMLBuilder } from 'fast-xml-parser';
import { dump } from 'js-yaml';
import type { SemVer } from 'semver';
import type { Artifact } from '../releases/artifact.entity';
import { AnalyticsRecorder } from '../analytics/analytics-recorder';
import { boundLicense, DownloadUrlsService, DOWNLOAD_TTL_DEFAULT, encodeFilenamePath } from '../artifacts/download-urls.service';
import type { Bearer } from '../access/bearer';
import { CatalogueService } from '../catalogue/catalogue.service';
import type { ProductView } from '../catalogue/catalogue.service';
import type { CatalogueRelease } from '../catalogue/product-releases';
import { APP_CONFIG } from '../config/config';
import { JsonTemplate, slot } from '../jsonapi/json-bytes';
import type { AppConfig } from '../config/config';
import { ApiError, ErrorCode } from '../jsonapi/errors';
import { accountPath } from '../jsonapi/links';
import type { Channel, Release } from '../releases/release.entity';
import { ReleaseVisibilityPolicy, visibilityClass } from '../releases/release.policy';
import { offeredTo } from '../releases/rollout';
import { comparePrecedence, compareLineOrder, INCLUSIVE_CHANNELS } from '../releases/semver';
import { admits, cohortOf, countsAsCustomer, UpgradeFinder, walkLine } from '../upgrades/upgrade-finder';
import type { OfferedRelease, ReleaseLine } from '../upgrades/upgrade-finder';
import { normalizeArch, platformsServing } from './platforms';
import { callerPin, pinAdmits } from '../upgrades/update-policy';

/** What every feed request names besides the product: channel, rollout stand-in, the caller's version. */
export interface FeedQuery {
  channel: Channel;
  installId?: string;
  /** The version the app runs, when the feed knows it (Tauri's current_version, `?version=`). */
  current?: SemVer;
  /** Tauri (tauri-plugin-updater 2.10+): how the app was installed; only files of that bundle type are offered. */
  bundleType?: TauriBundle;
}

/** A platform group: an os, and an arch or every arch. */
export interface PlatformGroup {
  os: string;
  arch?: string;
}

/** One file of the offered version. */
interface OfferedFile {
  release: Release;
  artifact: Artifact;
}

/** The Tauri updater's answer (v1 and v2 read the same fields). */
export interface TauriAnswer {
  version: string;
  url: string;
  signature: string;
  notes: string;
  pub_date: string;
  critical: boolean;
  /** Below the app's version, whose release was yanked (the app's version comparator must allow it). */
  rollback?: true;
}

/** A package of a Velopack or Squirrel feed. */
interface PackageFile extends OfferedFile {
  delta: boolean;
  /** A delta's base version. */
  base?: string;
}

/** Packages in a Velopack or Squirrel feed at most. */
const PACKAGES_MAX = 200;

/** An artifact's SHA-1 (Squirrel's checksum), as the packager wrote it into `metadata.sha1`. */
function sha1Of(a: Artifact): string | undefined {
  const sha1 = a.metadata?.sha1;
  return typeof sha1 === 'string' && /^[0-9a-fA-F]{40}$/.test(sha1) ? sha1 : undefined;
}

/** Items in a Sparkle appcast at most. */
const APPCAST_ITEMS = 20;

const xml = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@', format: true, suppressEmptyNode: true, cdataPropName: '#cdata' });

/**
 * Update feeds for the updaters apps embed (electron-updater, Tauri, Sparkle), generated per
 * request from the catalogue with the same visibility, channels and rollouts as the upgrade
 * action. Each feed answers synchronously when memory holds the caller and the product.
 */
@Injectable()
export class FeedsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly catalogue: CatalogueService,
    private readonly finder: UpgradeFinder,
    private readonly artifacts: DownloadUrlsService,
    private readonly analytics: AnalyticsRecorder,
  ) {}

  /** The caller's view of the product, loading what memory does not hold (404 when the account has no such product). */
  private async view(bearer: Bearer, accountId: string, product: string): Promise<ProductView> {
    const view = await this.catalogue.productView(bearer, accountId, product);
    if (!view || !mayReadFeed(view)) throw productNotFound(bearer);
    return view;
  }

  /** electron-builder's `latest.yml` for a platform group and channel; null when nothing is visible (404). */
  async electron(bearer: Bearer, accountId: string, product: string, group: PlatformGroup, query: FeedQuery): Promise<string | null> {
    return this.electronFrom(await this.view(bearer, accountId, product), group, query);
  }

  /** electron's answer over a view of the product (the fast path passes the one memory holds). */
  electronFrom(view: ProductView, group: PlatformGroup, query: FeedQuery): string | null {
    const key = `e|${group.os}|${group.arch ?? ''}|${query.channel}|${query.installId ?? ''}|${query.current?.version ?? ''}`;
    const plan = this.memo(view, key, () => this.electronPlan(view, group, query));
    if (query.current) this.count(view, query, query.current, groupPlatform(group), plan.upgrade);
    return plan.yaml;
  }

  /** The electron feed for a caller (null: 404), and the release it upgrades to from `current`. */
  private electronPlan(view: ProductView, group: PlatformGroup, query: FeedQuery): { yaml: string | null; upgrade: string | null } {
    const platforms = platformsServing(view.releases, group.os, group.arch);
    const line = this.line(view, query);
    const next = query.current ? this.offer(view, platforms, line, query.current) : null;
    const upgrade = next?.release.id ?? null;
    // a release above the caller's version is the newest one offered (only its critical flag differs)
    const latest = next ?? this.offer(view, platforms, line);
    if (!latest) return { yaml: null, upgrade };
    const critical = query.current ? (next?.critical ?? false) : latest.critical;
    const rollback = next?.rollback ?? false;
    const files = this.filesOf(view, platforms, line, latest.release);
    if (!files.length) return { yaml: null, upgrade };
    const ids = files.map((f) => f.artifact.id).join(',');
    return { yaml: view.releases.memos.table('electronYaml').get(`${ids}|${critical ? 1 : 0}${rollback ? 'r' : ''}`, () => this.electronYaml(files, critical, rollback)), upgrade };
  }

  private electronYaml(files: OfferedFile[], critical: boolean, rollback = false): string {
    const first = files[0].release;
    const entries = files.map((f) => ({
      url: `${this.config.publicUrl}${accountPath(f.artifact.accountId)}/artifacts/${f.artifact.id}/${encodeFilenamePath(f.artifact.filename)}`,
      sha512: Buffer.from(f.artifact.sha512!, 'hex').toString('base64'),
      size: f.artifact.filesize ?? 0,
    }));
    const doc: Record<string, unknown> = {
      version: first.version,
      files: entries,
      path: entries[0].url,
      sha512: entries[0].sha512,
      releaseDate: first.created.toISOString(),
    };
    if (first.name) doc.releaseName = first.name;
    if (first.description) doc.releaseNotes = first.description;
    const staged = Math.min(...files.map((f) => f.release.rolloutPercentage));
    if (staged < 100) doc.stagingPercentage = staged;
    if (critical) doc.critical = true;
    // below the app's version (its release was yanked): electron-updater takes it with allowDowngrade
    if (rollback) doc.rollback = true;
    return dump(doc, { lineWidth: -1 });
  }

  /**
   * The Tauri updater's answer for a target and arch, as JSON (serialized once per offered file,
   * the signed URL filled in per answer); null when there is no newer release (204).
   */
  async tauri(bearer: Bearer, accountId: string, product: string, group: PlatformGroup, query: FeedQuery): Promise<string | null> {
    return this.tauriFrom(await this.view(bearer, accountId, product), group, query);
  }

  /** Tauri's answer over a view of the product (the fast path passes the one memory holds). */
  tauriFrom(view: ProductView, group: PlatformGroup, query: FeedQuery): string | null {
    const key = `t|${group.os}|${group.arch ?? ''}|${query.channel}|${query.installId ?? ''}|${query.current?.version ?? ''}|${query.bundleType ?? ''}`;
    const plan = this.memo(view, key, () => this.tauriPlan(view, group, query));
    if (query.current) this.count(view, query, query.current, groupPlatform(group), plan.file?.release.id ?? null);
    if (!plan.file) return null;
    // the signed URL is made for each answer (it expires): only its signature is kept per second
    return plan.answer!.fill([this.artifacts.downloadUrl(plan.file.artifact, plan.file.release, DOWNLOAD_TTL_DEFAULT, view.releases.memos, boundLicense(view.viewer.bearer))]);
  }

  /** The file Tauri is offered (null: 204) and its answer, serialized with a slot for the URL. */
  private tauriPlan(view: ProductView, group: PlatformGroup, query: FeedQuery): { file: OfferedFile | null; answer?: JsonTemplate } {
    const platforms = platformsServing(view.releases, group.os, group.arch);
    const line = this.line(view, query);
    const offer = this.offer(view, platforms, line, query.current);
    if (!offer) return { file: null };
    // the updater refuses a file without a signature: such a version is no update for Tauri (204)
    // a `.deb` install is never sent an AppImage: with a bundle type, only files of that type
    const files = this.filesOf(view, platforms, line, offer.release).filter((f) => f.release.signature && (!query.bundleType || tauriBundleOf(f.release) === query.bundleType));
    if (!files.length) return { file: null };
    const file = files.reduce((best, f) => (tauriPreference(f, best) > 0 ? f : best));
    const r = file.release;
    return {
      file,
      answer: JsonTemplate.of(
        {
          version: r.version,
          signature: r.signature!,
          notes: r.description ?? '',
          pub_date: r.created.toISOString(),
          critical: offer.critical,
          ...(offer.rollback ? { rollback: true as const } : {}),
          url: slot(0),
        } satisfies TauriAnswer,
        1,
      ),
    };
  }

  /**
   * Tauri's static form (`latest.json`): the newest version the caller is offered (from `current`
   * when the URL says it), with per platform key (`<os>-<arch>`, and `<os>-<arch>-<bundle>` per
   * bundle type) the signed file of that version; null when there is none (404).
   */
  async tauriStatic(bearer: Bearer, accountId: string, product: string, query: FeedQuery): Promise<object | null> {
    const view = await this.view(bearer, accountId, product);
    const line = this.line(view, query);
    const platforms = [...view.releases.lines.keys()].filter((p) => TAURI_OS.includes(p.split('/')[0]));
    const offer = this.offer(view, platforms, line, query.current);
    if (query.current) this.count(view, query, query.current, offer?.release.platform ?? platforms[0] ?? 'unknown', offer?.release.id ?? null);
    else if (countsAsCustomer(view.viewer.bearer)) this.finder.countCheck();
    if (!offer) return null;
    const licenseId = boundLicense(view.viewer.bearer);
    const entries: Record<string, { url: string; signature: string }> = {};
    const best = new Map<string, OfferedFile>();
    for (const file of this.filesOf(view, platforms, line, offer.release)) {
      const signature = file.release.signature;
      if (!signature) continue;
      const [os, arch] = file.release.platform.split('/');
      const archs = arch ? [TAURI_ARCH[normalizeArch(arch)] ?? arch] : ['x86_64', 'aarch64'];
      const bundle = tauriBundleOf(file.release);
      for (const a of archs) {
        const key = `${os}-${a}`;
        const kept = best.get(key);
        if (!kept || tauriPreference(file, kept) > 0) best.set(key, file);
        if (bundle && !entries[`${key}-${bundle}`]) entries[`${key}-${bundle}`] = { url: this.artifacts.downloadUrl(file.artifact, file.release, DOWNLOAD_TTL_DEFAULT, view.releases.memos, licenseId), signature };
      }
    }
    if (!best.size) return null;
    for (const [key, file] of best) entries[key] = { url: this.artifacts.downloadUrl(file.artifact, file.release, DOWNLOAD_TTL_DEFAULT, view.releases.memos, licenseId), signature: file.release.signature! };
    const r = offer.release;
    const platformsJson = Object.fromEntries(Object.keys(entries).sort().map((k) => [k, entries[k]]));
    return { version: r.version, notes: r.description ?? '', pub_date: r.created.toISOString(), platforms: platformsJson };
  }

  /**
   * The `.nupkg` packages (Velopack, Squirrel.Windows) the caller is offered on the platforms of
   * `os` (all when undefined), newest first: every visible version of the channel, up to what the
   * caller is offered from `current` when it says its version (a stepping stone holds the rest
   * back; a rollback is the newest listed). A delta is listed only when its base release (the
   * artifact's `metadata.deltaFrom`, else the release below it on its platform) is listed too, since
   * a client applies deltas one after another from the version it runs.
   */
  async packages(bearer: Bearer, accountId: string, product: string, os: string | undefined, query: FeedQuery): Promise<{ view: ProductView; files: PackageFile[] }> {
    const view = await this.view(bearer, accountId, product);
    const line = this.line(view, query);
    const platforms = [...view.releases.lines.keys()].filter((p) => os === undefined || p.split('/')[0] === os).sort();
    const offer = query.current ? this.countedOffer(view, platforms, line, query.current, os ?? 'windows') : null;
    if (!query.current && countsAsCustomer(view.viewer.bearer)) this.finder.countCheck();
    const isOffered = this.offeredTest(view, line);
    const listed: PackageFile[] = [];
    const versions = new Set<string>();
    for (const platform of platforms) {
      const entries = view.releases.lines.get(platform) ?? [];
      // newest first: a long line is read only as far as the feed lists
      const stop = listed.length + PACKAGES_MAX;
      for (let i = 0; i < entries.length && listed.length < stop; i++) {
        const entry = entries[i];
        const a = entry.artifact;
        if (!entry.release.filename?.toLowerCase().endsWith('.nupkg') || !a?.sha256 || !isOffered(entry)) continue;
        if (offer && comparePrecedence(entry.release, offer.release) > 0) continue;
        const delta = entry.release.filename.toLowerCase().endsWith('-delta.nupkg');
        // the base of a delta: declared, else the release below it on its platform (whatever its status)
        let base: string | undefined;
        if (delta) {
          const declared = a.metadata?.deltaFrom;
          base = typeof declared === 'string' ? declared : entries.slice(i + 1).find((e) => comparePrecedence(e.release, entry.release) < 0)?.release.version;
        }
        listed.push({ release: entry.release, artifact: a, delta, base });
        versions.add(entry.release.version);
      }
    }
    const files = listed.filter((f) => !f.delta || (f.base !== undefined && versions.has(f.base)));
    files.sort((x, y) => compareLineOrder(y.release, x.release) || Number(x.delta) - Number(y.delta));
    return { view, files: files.slice(0, PACKAGES_MAX) };
  }

  /** Velopack's `releases.<channel>.json` over packages(). */
  async velopack(bearer: Bearer, accountId: string, product: string, os: string | undefined, query: FeedQuery): Promise<string> {
    const { view, files } = await this.packages(bearer, accountId, product, os, query);
    const licenseId = boundLicense(view.viewer.bearer);
    const packageId = view.product.code ?? view.product.id;
    const assets = files.map((f) => ({
      PackageId: typeof f.artifact.metadata?.packageId === 'string' ? f.artifact.metadata.packageId : packageId,
      Version: f.release.version,
      Type: f.delta ? 'Delta' : 'Full',
      FileName: this.artifacts.downloadUrl(f.artifact, f.release, DOWNLOAD_TTL_DEFAULT, view.releases.memos, licenseId),
      SHA1: sha1Of(f.artifact) ?? '',
      SHA256: f.artifact.sha256!,
      Size: f.artifact.filesize ?? 0,
      NotesMarkdown: f.release.description ?? '',
      NotesHtml: '',
    }));
    return JSON.stringify({ Assets: assets });
  }

  /** Squirrel.Windows' `RELEASES`: `<SHA1> <URL> <size>` per package (a package without a SHA-1 cannot be listed). */
  async squirrel(bearer: Bearer, accountId: string, product: string, query: FeedQuery): Promise<string> {
    const { view, files } = await this.packages(bearer, accountId, product, 'windows', query);
    const licenseId = boundLicense(view.viewer.bearer);
    // Squirrel reads the lines oldest first
    return files
      .filter((f) => sha1Of(f.artifact))
      .reverse()
      .map((f) => `${sha1Of(f.artifact)!.toUpperCase()} ${this.artifacts.downloadUrl(f.artifact, f.release, DOWNLOAD_TTL_DEFAULT, view.releases.memos, licenseId)} ${f.artifact.filesize ?? 0}`)
      .join('\n');
  }

  /** A Sparkle appcast (RSS 2.0) of the newest visible macOS releases. */
  async sparkle(bearer: Bearer, accountId: string, product: string, query: FeedQuery): Promise<string> {
    return this.sparkleFrom(await this.view(bearer, accountId, product), query);
  }

  private sparkleFrom(view: ProductView, query: FeedQuery): string {
    const platforms = platformsServing(view.releases, 'darwin', undefined);
    const line = this.line(view, query);
    const offer = query.current ? this.countedOffer(view, platforms, line, query.current, 'darwin') : null;
    if (!query.current && countsAsCustomer(view.viewer.bearer)) this.finder.countCheck();
    const { items: all, deltas } = this.appcastReleases(view, platforms, line);
    let items = all;
    // Sparkle chooses from the appcast itself: an app that says its version is shown nothing above
    // what it is offered (a stepping stone holds the rest back; Sparkle never downgrades)
    if (offer && !offer.rollback) items = items.filter((f) => comparePrecedence(f.release, offer.release) <= 0);
    const name = view.product.code ?? view.product.id;
    const rss = {
      '?xml': { '@version': '1.0', '@encoding': 'utf-8' },
      rss: {
        '@version': '2.0',
        '@xmlns:sparkle': 'http://www.andymatuschak.org/xml-namespaces/sparkle',
        '@xmlns:dc': 'http://purl.org/dc/elements/1.1/',
        channel: {
          title: name,
          link: `${this.config.publicUrl}${accountPath(view.releases.accountId)}/products/${view.product.id}/feeds/sparkle/appcast.xml`,
          description: `Updates of ${name}`,
          language: 'en',
          item: items.map((f, i) => this.appcastItem(f, items.slice(i + 1), boundLicense(view.viewer.bearer), deltas.get(f.release.version) ?? [], view.product.policy?.minimumVersion ?? null)),
        },
      },
    };
    return xml.build(rss) as string;
  }

  private appcastItem(file: OfferedFile, older: OfferedFile[], licenseId: string | undefined, deltas: OfferedFile[], minimumVersion: string | null): Record<string, unknown> {
    const r = file.release;
    const item: Record<string, unknown> = {
      title: r.name ?? `Version ${r.version}`,
      pubDate: r.created.toUTCString(),
      'sparkle:version': bundleVersion(r),
      'sparkle:shortVersionString': r.version,
    };
    // the builder splits a `]]>` inside the notes across two CDATA sections
    if (r.description) item.description = { '#cdata': r.description };
    if (r.channel !== 'stable') item['sparkle:channel'] = r.channel;
    if (typeof r.metadata?.minimumSystemVersion === 'string') item['sparkle:minimumSystemVersion'] = r.metadata.minimumSystemVersion;
    if (r.critical) {
      item['sparkle:criticalUpdate'] = '';
    } else {
      // a critical release below this one stays critical for apps older than it (skipping it never
      // hides it); and every update is critical for apps below the product's minimum version
      const skipped = older.find((o) => o.release.critical);
      const below = skipped ? bundleVersion(skipped.release) : minimumVersion;
      if (below) item['sparkle:criticalUpdate'] = { '@sparkle:version': below };
    }
    // the rest of Sparkle's item elements, from the release's metadata where set
    const m = r.metadata ?? {};
    // a required release below this one is a stepping stone: Sparkle first offers what an app's
    // version passes (SUAppcastDriver prefers items whose minimumAutoupdateVersion it meets), so an
    // app below the stone is offered the stone itself, even without ?version= on the feed URL
    const stone = older.find((o) => o.release.required);
    const minimum = typeof m.minimumAutoupdateVersion === 'string' ? m.minimumAutoupdateVersion : stone ? bundleVersion(stone.release) : undefined;
    if (minimum !== undefined) item['sparkle:minimumAutoupdateVersion'] = minimum;
    if (m.informationalUpdate === true) item['sparkle:informationalUpdate'] = '';
    else if (typeof m.informationalUpdate === 'string') item['sparkle:informationalUpdate'] = { 'sparkle:belowVersion': m.informationalUpdate };
    if (typeof m.phasedRolloutInterval === 'number' && Number.isInteger(m.phasedRolloutInterval) && m.phasedRolloutInterval > 0) item['sparkle:phasedRolloutInterval'] = String(m.phasedRolloutInterval);
    if (typeof m.releaseNotesLink === 'string') item['sparkle:releaseNotesLink'] = m.releaseNotesLink;
    if (typeof m.hardwareRequirements === 'string') item['sparkle:hardwareRequirements'] = m.hardwareRequirements;
    if (deltas.length) {
      item['sparkle:deltas'] = {
        enclosure: deltas.map((d) => {
          const delta: Record<string, unknown> = {
            '@url': this.artifacts.downloadUrl(d.artifact, d.release, DOWNLOAD_TTL_DEFAULT, undefined, licenseId),
            '@sparkle:version': bundleVersion(r),
            '@sparkle:shortVersionString': r.version,
            '@sparkle:deltaFrom': deltaFrom(d),
            '@length': String(d.artifact.filesize ?? 0),
            '@type': 'application/octet-stream',
          };
          const signature = d.artifact.signature ?? d.release.signature;
          if (signature) delta['@sparkle:edSignature'] = signature;
          return delta;
        }),
      };
    }
    const enclosure: Record<string, unknown> = {
      '@url': this.artifacts.downloadUrl(file.artifact, r, DOWNLOAD_TTL_DEFAULT, undefined, licenseId),
      '@length': String(file.artifact.filesize ?? 0),
      '@type': file.artifact.contentType || 'application/octet-stream',
    };
    if (r.signature) enclosure['@sparkle:edSignature'] = r.signature;
    item.enclosure = enclosure;
    return item;
  }

  /**
   * The newest visible versions across the lines, one file each (as Tauri prefers), newest first;
   * and per version its Sparkle deltas (`.delta` files with `metadata.deltaFrom`, the bundle
   * version they patch, listed only when that version is in the appcast too).
   */
  private appcastReleases(view: ProductView, platforms: readonly string[], line: Omit<ReleaseLine, 'platform'>): { items: OfferedFile[]; deltas: Map<string, OfferedFile[]> } {
    const isOffered = this.offeredTest(view, line);
    const byVersion = new Map<string, OfferedFile>();
    const deltas = new Map<string, OfferedFile[]>();
    for (const platform of platforms) {
      const entries = view.releases.lines.get(platform) ?? [];
      let versions = 0;
      for (const entry of entries) {
        if (versions >= APPCAST_ITEMS) break;
        if (!entry.artifact || !isOffered(entry)) continue;
        const file = { release: entry.release, artifact: entry.artifact };
        if (isSparkleDelta(file)) {
          if (deltaFrom(file)) deltas.set(entry.release.version, [...(deltas.get(entry.release.version) ?? []), file]);
          continue;
        }
        const kept = byVersion.get(entry.release.version);
        if (!kept) versions++;
        if (!kept || tauriPreference(file, kept) > 0) byVersion.set(entry.release.version, file);
      }
    }
    const items = [...byVersion.values()].sort((a, b) => compareLineOrder(b.release, a.release)).slice(0, APPCAST_ITEMS);
    const listed = new Set(items.map((f) => bundleVersion(f.release)));
    for (const [version, list] of deltas) deltas.set(version, list.filter((d) => listed.has(deltaFrom(d)!)));
    return { items, deltas };
  }

  // ---- shared steps ------------------------------------------------------------------------

  private line(view: ProductView, query: FeedQuery): Omit<ReleaseLine, 'platform'> {
    return { productId: view.product.id, channel: query.channel, requireArtifact: true, installId: query.installId, policy: view.product.policy };
  }

  /** The best offer across the lines of a platform group (critical: any line's offer says so). */
  private offer(view: ProductView, platforms: readonly string[], line: Omit<ReleaseLine, 'platform'>, current?: SemVer): OfferedRelease | null {
    let best: OfferedRelease | null = null;
    let critical = false;
    for (const platform of platforms) {
      const offer = walkLine(view.viewer, view.releases, { ...line, platform }, current);
      if (!offer) continue;
      // from a version: any line's skipped critical release counts; the latest: the offered release's own flag
      if (current) critical ||= offer.critical;
      if (!best || compareLineOrder(offer.release, best.release) > 0) best = offer;
    }
    return best && current && critical !== best.critical ? { ...best, critical } : best;
  }

  /** offer from the caller's version, counted (see count). */
  private countedOffer(view: ProductView, platforms: readonly string[], line: Omit<ReleaseLine, 'platform'>, current: SemVer, platform: string): OfferedRelease | null {
    const offer = this.offer(view, platforms, line, current);
    this.count(view, line, current, platform, offer?.release.id ?? null);
    return offer;
  }

  /**
   * A customer's feed request that names its version: an update check (recorded for adoption
   * analytics under the group's platform), and an upgrade of `upgrade` when one is offered.
   */
  private count(view: ProductView, query: { channel: Channel; installId?: string }, current: SemVer, platform: string, upgrade: string | null): void {
    if (!countsAsCustomer(view.viewer.bearer)) return;
    const bearer = view.viewer.bearer;
    const accountId = view.releases.accountId;
    this.finder.countCheck();
    this.analytics.recordCheck(bearer, { accountId, productId: view.product.id, platform, channel: query.channel, version: current.version, installId: query.installId });
    if (upgrade) this.finder.countUpgrade(bearer, accountId, upgrade, current.version);
  }

  /**
   * A feed's plan for a license, kept with the product's load (MEMO_KINDS.feedPlan) per license,
   * its visibility class (expiry window, entitlements) and the product's strategy: what the plan
   * depends on besides the releases. Other callers compute.
   */
  private memo<T>(view: ProductView, key: string, compute: () => T): T {
    const bearer = view.viewer.bearer;
    if (bearer.kind !== 'license' || !bearer.facts) return compute();
    // the pin and the product's policy change without a new load of the releases: part of the key
    const pin = bearer.facts.versionPin;
    const policy = view.product.policy;
    const kept = `${bearer.license.id}|${view.product.distributionStrategy}|${visibilityClass(view.viewer)}|${key}${pin || policy ? `|${pin ?? ''}|${policy?.key ?? ''}` : ''}`;
    return view.releases.memos.table('feedPlan').get(kept, compute);
  }

  /**
   * Whether a release of the group is offered to the caller: the query's filters, the caller's
   * visibility, and its rollout cohort (as walkLine decides for the top of a line).
   */
  private offeredTest(view: ProductView, line: Omit<ReleaseLine, 'platform'>): (entry: CatalogueRelease) => boolean {
    const channels = INCLUSIVE_CHANNELS[line.channel];
    const cohort = cohortOf(view.viewer, line);
    const pin = callerPin(view.viewer, line.productId);
    const now = Date.now();
    return (entry) =>
      admits(line, channels, entry) &&
      ReleaseVisibilityPolicy.sees(view.viewer, entry, now) &&
      pinAdmits(pin, entry.release) &&
      offeredTo(entry.release.id, entry.release.rolloutPercentage, cohort);
  }

  /** Every uploaded file of the offered version on the group's platforms that the caller is offered. */
  private filesOf(view: ProductView, platforms: readonly string[], line: Omit<ReleaseLine, 'platform'>, offered: Release): OfferedFile[] {
    const isOffered = this.offeredTest(view, line);
    const files: OfferedFile[] = [];
    for (const platform of platforms) {
      for (const entry of view.releases.lines.get(platform) ?? []) {
        const order = comparePrecedence(entry.release, offered);
        if (order > 0) continue;
        if (order < 0) break;
        if (entry.release.version !== offered.version || !entry.artifact?.sha512 || !isOffered(entry)) continue;
        files.push({ release: entry.release, artifact: entry.artifact });
      }
    }
    return files.sort((a, b) => filePreference(a) - filePreference(b) || age(b, a));
  }
}

/** How a Tauri app was installed, as tauri-plugin-updater 2.10+ sends it (`{{bundle_type}}`). */
export const TAURI_BUNDLES = ['nsis', 'msi', 'deb', 'rpm', 'appimage', 'app'] as const;
export type TauriBundle = (typeof TAURI_BUNDLES)[number];

/** The operating systems Tauri's updater names (`{{target}}`). */
const TAURI_OS = ['linux', 'windows', 'darwin'];

/** Release arch names as Tauri's static JSON keys spell them. */
const TAURI_ARCH: Record<string, string> = { amd64: 'x86_64', arm64: 'aarch64', '386': 'i686', arm: 'armv7' };

/**
 * A file's Tauri bundle type: `metadata.bundleType` when set, else read from its name (what
 * `tauri build` writes: `.AppImage` / `.AppImage.tar.gz`, `.deb`, `.rpm`, `.msi` / `.msi.zip`,
 * `-setup.exe` / `.nsis.zip`, `.app.tar.gz`); undefined for anything else.
 */
export function tauriBundleOf(r: Release): TauriBundle | undefined {
  const declared = r.metadata?.bundleType;
  if (typeof declared === 'string' && (TAURI_BUNDLES as readonly string[]).includes(declared.toLowerCase())) return declared.toLowerCase() as TauriBundle;
  const name = (r.filename ?? '').toLowerCase();
  if (/\.appimage(\.tar\.gz)?$/.test(name)) return 'appimage';
  if (name.endsWith('.deb')) return 'deb';
  if (name.endsWith('.rpm')) return 'rpm';
  if (/\.msi(\.zip)?$/.test(name)) return 'msi';
  if (/(\.exe|\.nsis\.zip)$/.test(name)) return 'nsis';
  if (name.endsWith('.app.tar.gz')) return 'app';
  return undefined;
}

/** A Sparkle delta update file (`.delta`, as Sparkle's generate_appcast names them). */
function isSparkleDelta(f: OfferedFile): boolean {
  return f.release.filetype?.toLowerCase() === 'delta' || f.release.filename?.toLowerCase().endsWith('.delta');
}

/** The bundle version a Sparkle delta patches: the artifact's (else the release's) `metadata.deltaFrom`. */
function deltaFrom(f: OfferedFile): string | undefined {
  const from = f.artifact.metadata?.deltaFrom ?? f.release.metadata?.deltaFrom;
  return typeof from === 'string' ? from : undefined;
}

/** Sparkle's build version of a release: `metadata.bundleVersion` when set, else the version. */
function bundleVersion(r: Release): string {
  return typeof r.metadata?.bundleVersion === 'string' ? r.metadata.bundleVersion : r.version;
}

/** A platform group as analytics names it: `windows`, `darwin`, `linux/amd64`. */
function groupPlatform(group: PlatformGroup): string {
  return group.arch ? `${group.os}/${group.arch}` : group.os;
}

/** The order files of one version are listed in (the first is electron-builder's `path`). */
const FILE_ORDER = ['exe', 'zip', 'appimage', 'dmg', 'msi', 'deb', 'rpm', 'tar.gz'];

function filePreference(f: OfferedFile): number {
  const type = f.release.filetype.toLowerCase();
  const i = FILE_ORDER.findIndex((t) => type === t || type.endsWith(`.${t}`));
  return i < 0 ? FILE_ORDER.length : i;
}

/**
 * > 0 when `a` is the better file for Tauri: a signed one (the updater refuses unsigned updates),
 * then a `.tar.gz`/`.zip` bundle, `.exe` over `.msi`, then the newest.
 */
function tauriPreference(a: OfferedFile, b: OfferedFile): number {
  const signed = Number(!!a.release.signature) - Number(!!b.release.signature);
  if (signed) return signed;
  const rank = (f: OfferedFile) => {
    const name = f.release.filename.toLowerCase();
    if (name.endsWith('.tar.gz') || name.endsWith('.zip')) return 3;
    if (name.endsWith('.exe')) return 2;
    if (name.endsWith('.msi')) return 1;
    return 0;
  };
  return rank(a) - rank(b) || age(a, b);
}

/**
 * > 0 when `a` is the newer file: the newer release (a 1.0 release is one file), then the newer
 * artifact (the files of one 1.1 release share their release's time).
 */
function age(a: OfferedFile, b: OfferedFile): number {
  return a.release.created.getTime() - b.release.created.getTime() || a.artifact.created.getTime() - b.artifact.created.getTime();
}

/**
 * The answer for a product that is unknown or that the caller may not see (the same for both, so
 * that a feed tells no one that a LICENSED or CLOSED product exists): an app without a key, or
 * with the key of another product, is told what it lacks (401: an app that lost its key would
 * otherwise look up to date forever); callers with a token get 404.
 */
export function productNotFound(bearer: Bearer): ApiError {
  switch (bearer.kind) {
    case 'anonymous':
      return new ApiError(401, ErrorCode.TOKEN_MISSING, 'This feed needs a license key: add ?key=<license key> to the feed URL, or send Authorization: License <key>', {
        parameter: 'key',
      });
    case 'license':
      return new ApiError(401, ErrorCode.LICENSE_INVALID, 'The license key is not valid for this product', { parameter: 'key' });
    default:
      return ApiError.notFound('The product was not found');
  }
}

/**
 * Whether the caller may read the product's feeds: a product it may not see answers exactly as an
 * unknown product (productNotFound), so that a feed tells no one that a LICENSED or CLOSED product exists.
 * OPEN products: everyone; others: admins, the product's token, and its licensees (a CLOSED
 * product: admins and its token only).
 */
export function mayReadFeed(view: ProductView): boolean {
  return mayReadProduct(view.viewer, view.product);
}

/** mayReadFeed's rule over the caller's facts and the product alone (the package engines ask it too). */
export function mayReadProduct(viewer: ProductView['viewer'], product: ProductView['product']): boolean {
  const { bearer, licenses } = viewer;
  switch (bearer.kind) {
    case 'admin':
      return true;
    case 'product':
      return bearer.productId === product.id;
    case 'license':
    case 'user':
      if (product.distributionStrategy === 'OPEN') return true;
      return product.distributionStrategy !== 'CLOSED' && licenses.some((l) => l.productId === product.id);
    case 'anonymous':
      return product.distributionStrategy === 'OPEN';
    default:
      return false;
  }
}
