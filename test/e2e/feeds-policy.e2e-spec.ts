import { createHash, randomBytes } from 'node:crypto';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { XMLParser } from 'fast-xml-parser';
import { freeLoopbackPort } from '../../src/database/embedded-postgres';
import { startApp, TestApp } from '../support/app';
import { createEntitlement, createLicense, createProduct, TestLicense, TestProduct } from '../support/catalogue.factories';
import { createAccount, TestAccount } from '../support/factories';
import { patchRelease } from '../support/policy.factories';
import { constrainRelease } from '../support/release.factories';
import { createReleaseV11, uploadArtifactV11 } from '../support/v11.factories';

const ajv = new Ajv({ strict: false });
/** A JSON answer, read as the loose shape these assertions walk. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (res: Response): Promise<any> => res.json();
addFormats(ajv);

/**
 * Velopack's asset feed, as its client deserializes it (src/lib-rust/src/manager.rs,
 * VelopackAssetFeed and VelopackAsset: every field a string but Size, a u64; Type "Full" or
 * "Delta"). The `velopack` npm package installs here, but its native module needs a newer glibc
 * than this machine has, so the feed is checked against these types and the client's own choice
 * of update (the highest Full asset above the local version, then the deltas in between).
 */
const VELOPACK_FEED = {
  type: 'object',
  required: ['Assets'],
  properties: {
    Assets: {
      type: 'array',
      items: {
        type: 'object',
        required: ['PackageId', 'Version', 'Type', 'FileName', 'SHA1', 'SHA256', 'Size', 'NotesMarkdown', 'NotesHtml'],
        properties: {
          PackageId: { type: 'string' },
          Version: { type: 'string' },
          Type: { enum: ['Full', 'Delta'] },
          FileName: { type: 'string', format: 'uri' },
          SHA1: { type: 'string' },
          SHA256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
          Size: { type: 'integer', minimum: 0 },
          NotesMarkdown: { type: 'string' },
          NotesHtml: { type: 'string' },
        },
      },
    },
  },
};

/**
 * A RELEASES line as Squirrel.Windows reads it (ReleaseEntry.ParseReleaseEntry): the entry regex,
 * an absolute URL split into base URL, file name (the last segment of the decoded path, which must
 * be a valid file name) and query, and a delta told by its `-delta.nupkg` name.
 */
function parseSquirrelEntry(line: string): { sha1: string; baseUrl: string | null; filename: string; query: string | null; size: number; isDelta: boolean } {
  const m = /^([0-9a-fA-F]{40})\s+(\S+)\s+(\d+)[\r]*$/.exec(line.replace(/\s*#.*$/, ''));
  if (!m) throw new Error(`Invalid release entry: ${line}`);
  let filename = m[2];
  let baseUrl: string | null = null;
  let query: string | null = null;
  if (/^https?:\/\//i.test(filename)) {
    const uri = new URL(filename);
    const localPath = decodeURIComponent(uri.pathname);
    const cut = localPath.lastIndexOf('/') + 1;
    baseUrl = uri.origin + localPath.slice(0, cut);
    filename = localPath.slice(cut);
    query = uri.search || null;
  }
  if (/[<>:"/\\|?*\x00-\x1f]/.test(filename)) throw new Error('Filename can either be an absolute HTTP[s] URL, *or* a file name');
  return { sha1: m[1], baseUrl, filename, query, size: Number(m[3]), isDelta: filename.toLowerCase().endsWith('-delta.nupkg') };
}

/** The Tauri updater's dynamic answer and its static JSON, as its documentation states them. */
const TAURI_STATIC = {
  type: 'object',
  required: ['version', 'platforms'],
  properties: {
    version: { type: 'string' },
    notes: { type: 'string' },
    pub_date: { type: 'string', format: 'date-time' },
    platforms: {
      type: 'object',
      propertyNames: { pattern: '^(linux|windows|darwin)-(x86_64|aarch64|i686|armv7)(-(nsis|msi|deb|rpm|appimage|app))?$' },
      additionalProperties: { type: 'object', required: ['url', 'signature'], properties: { url: { type: 'string', format: 'uri' }, signature: { type: 'string' } } },
    },
  },
};

describe('feeds: Tauri bundle types, Velopack, Squirrel, Sparkle complete', () => {
  let t: TestApp;
  let account: TestAccount;
  const bytes = new Map<string, Buffer>();

  /** A 1.1 release with artifacts ({filename, platform, arch?, signature?, metadata?}), each with its own bytes. */
  async function release(product: TestProduct, version: string, artifacts: Array<Record<string, unknown>>, attrs: Record<string, unknown> = {}) {
    const r = await createReleaseV11(t, account, product.id, version, attrs);
    const ids: string[] = [];
    for (const a of artifacts) {
      const body = Buffer.concat([Buffer.from(`${a.filename}\n`), randomBytes(256)]);
      const filename = a.filename as string;
      const filetype = filename.toLowerCase().endsWith('.tar.gz') ? 'tar.gz' : filename.slice(filename.lastIndexOf('.') + 1).toLowerCase();
      ids.push(await uploadArtifactV11(t, account, r.id, { filetype, ...a }, body));
      bytes.set(filename, body);
    }
    return { id: r.id, artifacts: ids };
  }
  const get = (path: string) => fetch(`${t.baseUrl}/v1/accounts/${account.id}${path}`, { redirect: 'manual' });
  const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

  beforeAll(async () => {
    const port = await freeLoopbackPort();
    t = await startApp({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
    account = await createAccount(t);
  });
  afterAll(() => t?.close());

  describe('Tauri', () => {
    let product: TestProduct;
    let license: TestLicense;

    beforeAll(async () => {
      product = await createProduct(t, account);
      license = await createLicense(t, account, product.id);
      for (const v of ['1.0.0', '1.1.0']) {
        await release(product, v, [
          { filename: `app_${v}_amd64.deb`, platform: 'linux', arch: 'amd64', signature: `sig-deb-${v}` },
          { filename: `app_${v}_amd64.AppImage`, platform: 'linux', arch: 'amd64', signature: `sig-appimage-${v}` },
          { filename: `app_${v}_x64-setup.exe`, platform: 'windows', arch: 'amd64', signature: `sig-nsis-${v}` },
          { filename: `app_${v}_x64_en-US.msi`, platform: 'windows', arch: 'amd64', signature: `sig-msi-${v}` },
          { filename: `app_${v}_aarch64.app.tar.gz`, platform: 'darwin', arch: 'arm64', signature: `sig-app-${v}` },
        ]);
      }
    });

    const tauri = (query: string) => get(`/products/${product.id}/feeds/tauri?${query}&key=${license.key}`);

    it('a request with bundle_type=deb gets the .deb, never the AppImage; appimage the AppImage; a type without a file 204', async () => {
      const deb = await tauri('target=linux&arch=x86_64&current_version=1.0.0&bundle_type=deb');
      expect(deb.status).toBe(200);
      const debBody = await json(deb);
      expect([debBody.version, new URL(debBody.url).pathname.endsWith('app_1.1.0_amd64.deb'), debBody.signature]).toEqual(['1.1.0', true, 'sig-deb-1.1.0']);
      const image = await json(await tauri('target=linux&arch=x86_64&current_version=1.0.0&bundle_type=appimage'));
      expect(new URL(image.url).pathname.endsWith('app_1.1.0_amd64.AppImage')).toBe(true);
      const msi = await json(await tauri('target=windows&arch=x86_64&current_version=1.0.0&bundle_type=msi'));
      expect(new URL(msi.url).pathname.endsWith('app_1.1.0_x64_en-US.msi')).toBe(true);
      const nsis = await json(await tauri('target=windows&arch=x86_64&current_version=1.0.0&bundle_type=nsis'));
      expect(new URL(nsis.url).pathname.endsWith('app_1.1.0_x64-setup.exe')).toBe(true);
      expect((await tauri('target=linux&arch=x86_64&current_version=1.0.0&bundle_type=rpm')).status).toBe(204);
      // the file downloads
      const file = await fetch(debBody.url);
      expect(Buffer.from(await file.arrayBuffer()).equals(bytes.get('app_1.1.0_amd64.deb')!)).toBe(true);
      const bad = await tauri('target=linux&arch=x86_64&current_version=1.0.0&bundle_type=snap');
      expect(bad.status).toBe(400);
      expect((await json(bad)).errors[0]).toMatchObject({ code: 'PARAMETER_INVALID', source: { parameter: 'bundle_type' } });
    });

    it('latest.json has one entry per platform key, each the signed file of the newest version', async () => {
      const res = await get(`/products/${product.id}/feeds/tauri/latest.json?key=${license.key}`);
      expect(res.status).toBe(200);
      const doc = await json(res);
      expect(ajv.validate(TAURI_STATIC, doc)).toBe(true);
      expect(doc.version).toBe('1.1.0');
      expect(Object.keys(doc.platforms)).toEqual([
        'darwin-aarch64',
        'darwin-aarch64-app',
        'linux-x86_64',
        'linux-x86_64-appimage',
        'linux-x86_64-deb',
        'windows-x86_64',
        'windows-x86_64-msi',
        'windows-x86_64-nsis',
      ]);
      expect(doc.platforms['linux-x86_64-deb'].signature).toBe('sig-deb-1.1.0');
      expect(new URL(doc.platforms['windows-x86_64'].url).pathname.endsWith('app_1.1.0_x64-setup.exe')).toBe(true);
      const file = await fetch(doc.platforms['darwin-aarch64-app'].url);
      expect(Buffer.from(await file.arrayBuffer()).equals(bytes.get('app_1.1.0_aarch64.app.tar.gz')!)).toBe(true);
    });
  });

  describe('Velopack and Squirrel', () => {
    let product: TestProduct;
    let license: TestLicense;
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      product = await createProduct(t, account, { code: `acme-${randomBytes(3).toString('hex')}` });
      license = await createLicense(t, account, product.id);
      const pro = await createEntitlement(t, account);
      const pkg = (name: string) => ({ filename: name, platform: 'windows', metadata: { sha1: 'x' } });
      // the sha1 a packager writes (vpk, Squirrel's releasify) is known once the bytes are: set after upload below
      for (const [v, files] of [
        ['1.0.0', ['AcmeApp-1.0.0-full.nupkg']],
        ['1.1.0', ['AcmeApp-1.1.0-full.nupkg', 'AcmeApp-1.1.0-delta.nupkg']],
        ['1.2.0', ['AcmeApp-1.2.0-full.nupkg', 'AcmeApp-1.2.0-delta.nupkg']],
        ['1.3.0', ['AcmeApp-1.3.0-full.nupkg', 'AcmeApp-1.3.0-delta.nupkg']],
      ] as const) {
        const r = await release(product, v, files.map(pkg), { description: `Notes of ${v}` });
        ids[v] = r.id;
        for (const [i, id] of r.artifacts.entries()) {
          await fetch(`${t.baseUrl}/v1/accounts/${account.id}/artifacts/${id}`, {
            method: 'PATCH',
            headers: { Authorization: `Bearer ${account.adminToken}`, 'Content-Type': 'application/vnd.api+json', 'Keygen-Version': '1.1' },
            body: JSON.stringify({ data: { type: 'artifacts', id, attributes: { metadata: { sha1: sha1(bytes.get(files[i])!) } } } }),
          }).then((res) => expect(res.status).toBe(200));
        }
      }
      // 1.2.0 needs an entitlement the license lacks: its delta is not listed, and 1.3.0's delta (based on 1.2.0) neither
      await constrainRelease(t, account, ids['1.2.0'], [pro.id]);
    });

    const velopack = async (file: string, query = '') => {
      const res = await get(`/products/${product.id}/feeds/velopack/k/${license.key}/${file}${query}`);
      return { status: res.status, body: res.status === 200 ? await json(res) : await res.text() };
    };

    /** Velopack's own choice (UpdateManager.check_for_updates): the highest Full above the local version, and the deltas up to it. */
    function velopackChoice(feed: { Assets: any[] }, local: string) {
      const cmp = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true });
      const fulls = feed.Assets.filter((a) => a.Type === 'Full').sort((a, b) => cmp(b.Version, a.Version));
      const target = fulls[0];
      if (!target || cmp(target.Version, local) <= 0) return null;
      const deltas = feed.Assets.filter((a) => a.Type === 'Delta' && cmp(a.Version, local) > 0 && cmp(a.Version, target.Version) <= 0).map((a) => a.Version);
      return { target: target.Version, deltas };
    }

    it("releases.<channel>.json parses with Velopack's types, the key in the path, and lists a delta only when its base is visible", async () => {
      // what Velopack's Rust client sends (it replaces the feed URL's query string: the key stays in the path)
      const { status, body } = await velopack('releases.win.json', `?localVersion=1.0.0&id=AcmeApp&stagingId=${randomBytes(8).toString('hex')}`);
      expect(status).toBe(200);
      expect(ajv.validate(VELOPACK_FEED, body)).toBe(true);
      const listed = body.Assets.map((a: any) => `${a.Version} ${a.Type}`);
      expect(listed).toEqual(['1.3.0 Full', '1.1.0 Full', '1.1.0 Delta', '1.0.0 Full']);
      expect(body.Assets[0]).toMatchObject({ PackageId: product.code, SHA1: sha1(bytes.get('AcmeApp-1.3.0-full.nupkg')!), NotesMarkdown: 'Notes of 1.3.0' });
      expect(velopackChoice(body, '1.0.0')).toEqual({ target: '1.3.0', deltas: ['1.1.0'] });
      // FileName is an absolute URL that downloads the package, whose size and SHA-256 are those listed
      const file = await fetch(body.Assets[2].FileName);
      const got = Buffer.from(await file.arrayBuffer());
      expect([got.length, createHash('sha256').update(got).digest('hex')]).toEqual([body.Assets[2].Size, body.Assets[2].SHA256]);
      // the stable channel (every platform) answers the same here; a bad key is 401
      expect((await velopack('releases.stable.json')).body.Assets).toHaveLength(4);
      expect((await get(`/products/${product.id}/feeds/velopack/k/NOT-A-KEY/releases.win.json`)).status).toBe(401);
      expect((await velopack('releases.nope.json')).status).toBe(404);
    });

    it('a required release holds back what is above it for a caller that says its version', async () => {
      await patchRelease(t, account, ids['1.1.0'], { required: true });
      const { body } = await velopack('releases.win.json', '?localVersion=1.0.0&id=AcmeApp');
      expect(velopackChoice(body, '1.0.0')).toEqual({ target: '1.1.0', deltas: ['1.1.0'] });
      const fromOneOne = (await velopack('releases.win.json', '?localVersion=1.1.0&id=AcmeApp')).body;
      expect(velopackChoice(fromOneOne, '1.1.0')?.target).toBe('1.3.0');
      await patchRelease(t, account, ids['1.1.0'], { required: false });
    });

    it('the Squirrel RELEASES lines parse as Squirrel reads them', async () => {
      const res = await get(`/products/${product.id}/feeds/squirrel/k/${license.key}/RELEASES?id=AcmeApp&localVersion=1.0.0&arch=amd64`);
      expect(res.status).toBe(200);
      const entries = (await res.text()).split('\n').filter((l) => l.trim()).map(parseSquirrelEntry);
      expect(entries.map((e) => e.filename)).toEqual(['AcmeApp-1.0.0-full.nupkg', 'AcmeApp-1.1.0-delta.nupkg', 'AcmeApp-1.1.0-full.nupkg', 'AcmeApp-1.3.0-full.nupkg']);
      expect(entries.map((e) => e.isDelta)).toEqual([false, true, false, false]);
      for (const e of entries) {
        expect(e.sha1).toBe(sha1(bytes.get(e.filename)!).toUpperCase());
        expect(e.size).toBe(bytes.get(e.filename)!.length);
        // Squirrel downloads BaseUrl + Filename + Query
        const file = await fetch(`${e.baseUrl}${encodeURIComponent(e.filename)}${e.query ?? ''}`);
        expect(sha1(Buffer.from(await file.arrayBuffer()))).toBe(e.sha1.toLowerCase());
      }
    });
  });

  describe('Sparkle, complete', () => {
    let product: TestProduct;
    let license: TestLicense;

    beforeAll(async () => {
      product = await createProduct(t, account, { minimumVersion: '1.0.0' });
      license = await createLicense(t, account, product.id);
      await release(product, '1.0.0', [{ filename: 'Acme-1.0.0.zip', platform: 'darwin', signature: 'ed-1.0.0' }], { metadata: { bundleVersion: '100' } });
      await release(product, '1.1.0', [
        { filename: 'Acme-1.1.0.zip', platform: 'darwin', signature: 'ed-1.1.0' },
        { filename: 'Acme110-100.delta', platform: 'darwin', signature: 'ed-delta-100', metadata: { deltaFrom: '100' } },
        { filename: 'Acme110-90.delta', platform: 'darwin', signature: 'ed-delta-90', metadata: { deltaFrom: '90' } },
      ], {
        metadata: {
          bundleVersion: '110',
          minimumAutoupdateVersion: '100',
          informationalUpdate: '105',
          phasedRolloutInterval: 86400,
          releaseNotesLink: 'https://acme.example/notes/1.1.0',
          hardwareRequirements: 'arm64',
        },
      });
    });

    it("the appcast with deltas parses (fast-xml-parser) with every new element where set", async () => {
      const res = await get(`/products/${product.id}/feeds/sparkle/appcast.xml?key=${license.key}`);
      expect(res.status).toBe(200);
      const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' }).parse(await res.text());
      const [newest, older] = doc.rss.channel.item;
      expect(newest['sparkle:version']).toBe(110);
      expect(newest['sparkle:minimumAutoupdateVersion']).toBe(100);
      expect(newest['sparkle:informationalUpdate']).toEqual({ 'sparkle:belowVersion': 105 });
      expect(newest['sparkle:phasedRolloutInterval']).toBe(86400);
      expect(newest['sparkle:releaseNotesLink']).toBe('https://acme.example/notes/1.1.0');
      expect(newest['sparkle:hardwareRequirements']).toBe('arm64');
      // below the product's minimum version every update is critical
      expect(newest['sparkle:criticalUpdate']).toEqual({ '@sparkle:version': '1.0.0' });
      // one delta: from 100 (in the appcast); the one from 90 patches a build nobody here can run
      const deltas = [newest['sparkle:deltas'].enclosure].flat();
      expect(deltas).toHaveLength(1);
      expect(deltas[0]).toMatchObject({ '@sparkle:deltaFrom': '100', '@sparkle:version': '110', '@sparkle:edSignature': 'ed-delta-100' });
      const file = await fetch(deltas[0]['@url']);
      expect(Buffer.from(await file.arrayBuffer()).equals(bytes.get('Acme110-100.delta')!)).toBe(true);
      expect(newest.enclosure['@url']).toContain('Acme-1.1.0.zip');
      expect(older['sparkle:deltas']).toBeUndefined();
      expect(older['sparkle:minimumAutoupdateVersion']).toBeUndefined();
    });
  });
});
