import { randomUUID } from 'node:crypto';
import { startApp, TestApp } from '../support/app';
import { createProduct, createProductToken, licenseAuth, TestLicense, TestProduct } from '../support/catalogue.factories';
import { api, bearer, createAccount, createUser, TestAccount } from '../support/factories';
import { comparable, contractBucket, inCohort, insertLicenses, patchRelease, pool, upgradeAction, upgradeFrom, v3 } from '../support/policy.factories';
import type { PolicyAnswer } from '../support/policy.factories';
import { releaseWithFile, UpgradeRelease } from '../support/upgrade.factories';

const LINUX = 'linux/amd64';
/** In flight at once: the machine is shared. */
const CONCURRENCY = 8;
/** Licenses (and installIds) per band of buckets below. */
const PER_BAND = 8;

/**
 * `perBand` subjects from `candidate(0)`, `candidate(1)`, ... for each band `[from, to)` of the
 * rollout buckets of `releaseId` (the contract's formula), in band order: a small set that still
 * covers every side of each percentage the tests use, whatever ids the run happens to get.
 */
function subjectsByBucket(releaseId: string, bands: Array<[number, number]>, perBand: number, candidate: (n: number) => string): string[] {
  const picked = bands.map(() => [] as string[]);
  for (let n = 0; picked.some((p) => p.length < perBand); n++) {
    const subject = candidate(n);
    const bucket = contractBucket(releaseId, subject);
    const band = bands.findIndex(([from, to]) => bucket >= from && bucket < to);
    if (band >= 0 && picked[band].length < perBand) picked[band].push(subject);
  }
  return picked.flat();
}

/**
 * Staged rollouts (rolloutPercentage < 100) on every update route, each answer checked against
 * the contract's cohort formula computed here; the same checks against an instance without the
 * in-memory catalogue (the SQL path) must give the same answers. The formula's spread (about p %
 * of many callers) is a unit test (src/releases/rollout.spec.ts); here a few licenses chosen on
 * each side of 30 % and 60 % show that every route applies it, exactly.
 */
describe('staged rollouts', () => {
  let mem: TestApp;
  let sql: TestApp;
  let account: TestAccount;
  let product: TestProduct;
  let productToken: string;
  let otherProductToken: string;
  let open: TestProduct;
  let base: UpgradeRelease; // 1.0.0
  let full: UpgradeRelease; // 1.1.0, fully rolled out
  let staged: UpgradeRelease; // 1.2.0, rolloutPercentage 30
  let openBase: UpgradeRelease; // OPEN product 1.0.0
  let openStaged: UpgradeRelease; // OPEN product 2.0.0, rolloutPercentage 30
  /** PER_BAND licenses with a bucket below 30 (in the cohort at 30 %), PER_BAND in 30..59, PER_BAND at 60 or more. */
  let licenses: TestLicense[];
  /** The licenses asked on the SQL instance too (all of them). */
  let sample: TestLicense[];
  /** The licenses asked on every route (all of them). */
  let wide: TestLicense[];
  let otherLicense: TestLicense;

  const both = () => [mem, sql] as const;
  const check = (t: TestApp, auth: string | undefined, params: Record<string, string | undefined> = {}) =>
    upgradeAction(t, account, auth, { product: product.id, platform: LINUX, filetype: 'tar.gz', version: '1.0.0', ...params });
  const v3Update = (t: TestApp, auth: string | undefined, params: Record<string, string | undefined> = {}) =>
    v3(t, 'update', auth, { productId: product.id, platform: LINUX, version: '1.0.0', ...params });
  const v3Latest = (t: TestApp, auth: string | undefined, params: Record<string, string | undefined> = {}) =>
    v3(t, 'latest', auth, { productId: product.id, platform: LINUX, ...params });
  const expected = (subject: string, p: number) => (inCohort(staged.id, p, subject) ? '1.2.0' : '1.1.0');
  /** Licenses whose answer differs from `expect`, as `[id, got, expected]` (empty when all agree). */
  const mismatches = (answers: PolicyAnswer[], subjects: readonly { id: string }[], want: (id: string) => string) =>
    answers.map((a, i) => [subjects[i].id, a.version, want(subjects[i].id)]).filter(([, got, exp]) => got !== exp);

  beforeAll(async () => {
    mem = await startApp();
    sql = await startApp({ CATALOGUE: 'false' });
    account = await createAccount(mem);
    product = await createProduct(mem, account);
    const other = await createProduct(mem, account);
    open = await createProduct(mem, account, { distributionStrategy: 'OPEN' });
    productToken = (await createProductToken(mem, account, product.id)).token;
    otherProductToken = (await createProductToken(mem, account, other.id)).token;
    base = await releaseWithFile(mem, account, product.id, '1.0.0');
    full = await releaseWithFile(mem, account, product.id, '1.1.0');
    staged = await releaseWithFile(mem, account, product.id, '1.2.0', { attrs: { rolloutPercentage: 30 } });
    openBase = await releaseWithFile(mem, account, open.id, '1.0.0');
    openStaged = await releaseWithFile(mem, account, open.id, '2.0.0', { attrs: { rolloutPercentage: 30 } });
    const ids = subjectsByBucket(staged.id, [[0, 30], [30, 60], [60, 100]], PER_BAND, () => randomUUID());
    licenses = await insertLicenses(mem, account, product.id, ids.length, { ids });
    wide = licenses;
    sample = licenses;
    [otherLicense] = await insertLicenses(mem, account, other.id, 1);
  });
  afterAll(async () => {
    await mem?.close();
    await sql?.close();
  });

  describe('licenses', () => {
    it('offers a release at 30 % to exactly the licenses the formula puts in its cohort; the others get the fully rolled-out release', async () => {
      const answers = await pool(licenses, CONCURRENCY, (l) => v3Update(mem, licenseAuth(l.key)));
      expect(answers.every((a) => a.status === 200)).toBe(true);
      expect(mismatches(answers, licenses, (id) => expected(id, 30))).toEqual([]);
      // the licenses of the first band, and only they
      expect(answers.filter((a) => a.version === '1.2.0')).toHaveLength(PER_BAND);
      // and the ones outside are offered the full release itself, not merely its version
      const outside = answers.find((a) => a.version === '1.1.0')!;
      expect(outside.id).toBe(full.id);
    });

    it('answers the same cohorts on the upgrade action, /releases/:id/upgrade and /v3 latest', async () => {
      const action = await pool(wide, CONCURRENCY, (l) => check(mem, licenseAuth(l.key)));
      expect(action.every((a) => a.status === 303)).toBe(true);
      expect(mismatches(action, wide, (id) => expected(id, 30))).toEqual([]);
      const from = await pool(wide, CONCURRENCY, (l) => upgradeFrom(mem, account, licenseAuth(l.key), base.id));
      expect(from.every((a) => a.status === 200)).toBe(true);
      expect(mismatches(from, wide, (id) => expected(id, 30))).toEqual([]);
      const latest = await pool(wide, CONCURRENCY, (l) => v3Latest(mem, licenseAuth(l.key)));
      expect(mismatches(latest, wide, (id) => expected(id, 30))).toEqual([]);
      // both outcomes are in the sample
      expect(new Set(action.map((a) => a.id))).toEqual(new Set([full.id, staged.id]));
      // a caller already on the staged release but outside its cohort is not moved back
      const out = licenses.find((l) => !inCohort(staged.id, 30, l.id))!;
      expect((await v3Update(mem, licenseAuth(out.key), { version: '1.2.0' })).status).toBe(204);
      expect((await check(mem, licenseAuth(out.key), { version: '1.2.0' })).status).toBe(204);
    });

    it('the SQL path (no catalogue) gives every route the same answers', async () => {
      for (const route of [
        (t: TestApp, l: TestLicense) => check(t, licenseAuth(l.key)),
        (t: TestApp, l: TestLicense) => upgradeFrom(t, account, licenseAuth(l.key), base.id),
        (t: TestApp, l: TestLicense) => v3Update(t, licenseAuth(l.key)),
        (t: TestApp, l: TestLicense) => v3Latest(t, licenseAuth(l.key)),
      ]) {
        const fromSql = await pool(sample, CONCURRENCY, (l) => route(sql, l));
        expect(mismatches(fromSql, sample, (id) => expected(id, 30))).toEqual([]);
        const fromMem = await pool(sample, CONCURRENCY, (l) => route(mem, l));
        expect(fromSql.map(comparable)).toEqual(fromMem.map(comparable));
      }
    });

    it('raising the rollout to 60 % keeps every earlier member and adds more; 0 offers it to nobody, 100 to everyone', async () => {
      const at30 = new Set(licenses.filter((l) => inCohort(staged.id, 30, l.id)).map((l) => l.id));
      try {
        expect((await patchRelease(mem, account, staged.id, { rolloutPercentage: 60 })).rolloutPercentage).toBe(60);
        const answers = await pool(wide, CONCURRENCY, (l) => v3Update(mem, licenseAuth(l.key)));
        expect(mismatches(answers, wide, (id) => expected(id, 60))).toEqual([]);
        const at60 = new Set(wide.filter((_, i) => answers[i].version === '1.2.0').map((l) => l.id));
        expect(wide.filter((l) => at30.has(l.id) && !at60.has(l.id))).toEqual([]);
        expect(at60.size).toBeGreaterThan(wide.filter((l) => at30.has(l.id)).length);
        // the first two bands: buckets below 60
        expect(at60.size).toBe(2 * PER_BAND);
        const fromSql = await pool(sample, CONCURRENCY, (l) => check(sql, licenseAuth(l.key)));
        expect(mismatches(fromSql, sample, (id) => expected(id, 60))).toEqual([]);

        await patchRelease(mem, account, staged.id, { rolloutPercentage: 0 });
        for (const t of both()) {
          const paused = await pool(t === mem ? wide : sample, CONCURRENCY, (l) => v3Update(t, licenseAuth(l.key)));
          expect(paused.filter((a) => a.version !== '1.1.0')).toEqual([]);
          const pausedLatest = await pool(sample, CONCURRENCY, (l) => v3Latest(t, licenseAuth(l.key)));
          expect(pausedLatest.filter((a) => a.version !== '1.1.0')).toEqual([]);
        }

        await patchRelease(mem, account, staged.id, { rolloutPercentage: 100 });
        for (const t of both()) {
          const everyone = await pool(t === mem ? wide : sample, CONCURRENCY, (l) => check(t, licenseAuth(l.key)));
          expect(everyone.filter((a) => a.version !== '1.2.0')).toEqual([]);
        }
      } finally {
        await patchRelease(mem, account, staged.id, { rolloutPercentage: 30 });
      }
    });
  });

  describe('anonymous callers of an OPEN product', () => {
    const openCheck = (t: TestApp, installId: string | undefined) =>
      upgradeAction(t, account, undefined, { product: open.id, platform: LINUX, filetype: 'tar.gz', version: '0.9.0', installId });
    /** PER_BAND installIds in the cohort of the staged OPEN release at 30 %, PER_BAND outside, and odd ones. */
    let installIds: string[];
    beforeAll(() => {
      installIds = [
        ...subjectsByBucket(openStaged.id, [[0, 30], [30, 100]], PER_BAND, (n) => `install-${n}`),
        'ïnstallé-ü-日本-🚀',
        'x'.repeat(64),
        ' spaces and : colons ',
      ];
    });
    const want = (id: string) => (inCohort(openStaged.id, 30, id) ? '2.0.0' : '1.0.0');

    it('with an installId, follow the formula with the installId (both paths)', async () => {
      const answers = await pool(installIds, CONCURRENCY, (id) => openCheck(mem, id));
      expect(answers.every((a) => a.status === 303)).toBe(true);
      const subjects = installIds.map((id) => ({ id }));
      expect(mismatches(answers, subjects, want)).toEqual([]);
      // both answers are in the set
      expect(new Set(answers.map((a) => a.version))).toEqual(new Set(['1.0.0', '2.0.0']));
      const fromSql = await pool(installIds, CONCURRENCY, (id) => openCheck(sql, id));
      expect(mismatches(fromSql, subjects, want)).toEqual([]);
      // by release: in the cohort the staged release, outside it nothing above 1.0.0
      for (const t of both()) {
        for (const id of installIds) {
          const res = await upgradeFrom(t, account, undefined, openBase.id, { installId: id });
          expect([id, res.status, res.version]).toEqual(inCohort(openStaged.id, 30, id) ? [id, 200, '2.0.0'] : [id, 404, null]);
        }
      }
    });

    it('without an installId, never get a partial rollout, even at 99 %', async () => {
      try {
        await patchRelease(mem, account, openStaged.id, { rolloutPercentage: 99 });
        for (const t of both()) {
          const res = await openCheck(t, undefined);
          expect([res.status, res.version]).toEqual([303, '1.0.0']);
          expect((await upgradeFrom(t, account, undefined, openBase.id)).status).toBe(404);
          // an id in the cohort at 99 % gets it (the release is visible to anonymous callers)
          const member = installIds.find((id) => inCohort(openStaged.id, 99, id))!;
          expect((await openCheck(t, member)).version).toBe('2.0.0');
        }
        await patchRelease(mem, account, openStaged.id, { rolloutPercentage: 100 });
        for (const t of both()) expect((await openCheck(t, undefined)).version).toBe('2.0.0');
      } finally {
        await patchRelease(mem, account, openStaged.id, { rolloutPercentage: 30 });
      }
    });

    it('an installId longer than 64 characters is 400 naming the parameter', async () => {
      for (const t of both()) {
        const long = 'y'.repeat(65);
        const a = await openCheck(t, long);
        expect(a.status).toBe(400);
        expect(a.body.errors[0]).toMatchObject({ status: '400', code: 'PARAMETER_INVALID', source: { parameter: 'installId' } });
        const b = await upgradeFrom(t, account, undefined, openBase.id, { installId: long });
        expect(b.status).toBe(400);
        expect(b.body.errors[0]).toMatchObject({ code: 'PARAMETER_INVALID', source: { parameter: 'installId' } });
        const c = await v3Update(t, bearer(account.adminToken), { installId: long });
        expect([c.status, c.body.code]).toEqual([400, 'PARAMETER_INVALID']);
        const d = await v3Latest(t, bearer(account.adminToken), { installId: long });
        expect([d.status, d.body.code]).toEqual([400, 'PARAMETER_INVALID']);
      }
    });
  });

  describe('user tokens', () => {
    it('use the license of that product the user owns (its id, not an installId it sends)', async () => {
      let inside = randomUUID();
      while (!inCohort(staged.id, 30, inside)) inside = randomUUID();
      let outside = randomUUID();
      while (inCohort(staged.id, 30, outside)) outside = randomUUID();
      // an installId that would give each user the other answer: ignored when the user has a license
      const insideId = installIdWhere((id) => inCohort(staged.id, 30, id));
      const outsideId = installIdWhere((id) => !inCohort(staged.id, 30, id));
      const member = await createUser(mem, account);
      const nonMember = await createUser(mem, account);
      await insertLicenses(mem, account, product.id, 1, { ids: [inside], userId: member.id });
      await insertLicenses(mem, account, product.id, 1, { ids: [outside], userId: nonMember.id });
      const cases: Array<[string, string, string]> = [
        [member.token, outsideId, '1.2.0'],
        [nonMember.token, insideId, '1.1.0'],
      ];
      for (const t of both()) {
        for (const [token, installId, version] of cases) {
          const auth = bearer(token);
          for (const params of [{}, { installId }]) {
            expect((await check(t, auth, params)).version).toBe(version);
            expect((await upgradeFrom(t, account, auth, base.id, params)).version).toBe(version);
            expect((await v3Update(t, auth, params)).version).toBe(version);
            expect((await v3Latest(t, auth, params)).version).toBe(version);
          }
        }
      }
    });
  });

  describe('admins and product tokens', () => {
    const tokens = () => [bearer(account.adminToken), bearer(productToken)];

    it('list and read the staged release as before', async () => {
      for (const t of both()) {
        for (const auth of tokens()) {
          const list = await api(t, auth).get(`/v1/accounts/${account.id}/releases?product=${product.id}&sort=-version`);
          expect(list.status).toBe(200);
          expect(list.body.data.map((r: { attributes: { version: string } }) => r.attributes.version)).toEqual(['1.2.0', '1.1.0', '1.0.0']);
          expect(list.body.data[0].attributes).toMatchObject({ rolloutPercentage: 30, critical: false });
          expect((await api(t, auth).get(`/v1/accounts/${account.id}/releases/${staged.id}`)).status).toBe(200);
        }
      }
    });

    it('without parameters, are offered the staged release on every route', async () => {
      for (const t of both()) {
        for (const auth of tokens()) {
          expect((await check(t, auth)).id).toBe(staged.id);
          expect((await upgradeFrom(t, account, auth, base.id)).id).toBe(staged.id);
          expect((await v3Update(t, auth)).id).toBe(staged.id);
          expect((await v3Latest(t, auth)).id).toBe(staged.id);
        }
      }
    });

    it('with installId= or license=<id>, get what that install or license gets', async () => {
      // four of each side of the cohort
      const candidates = Array.from({ length: 200 }, (_, i) => `preview-${i}`);
      const installs = [...candidates.filter((id) => inCohort(staged.id, 30, id)).slice(0, 4), ...candidates.filter((id) => !inCohort(staged.id, 30, id)).slice(0, 4)];
      const previewed = [...wide.filter((l) => inCohort(staged.id, 30, l.id)).slice(0, 4), ...wide.filter((l) => !inCohort(staged.id, 30, l.id)).slice(0, 4)];
      for (const t of both()) {
        for (const auth of tokens()) {
          for (const id of installs) {
            const want = expected(id, 30);
            expect([id, (await check(t, auth, { installId: id })).version]).toEqual([id, want]);
            expect([id, (await upgradeFrom(t, account, auth, base.id, { installId: id })).version]).toEqual([id, want]);
            expect([id, (await v3Update(t, auth, { installId: id })).version]).toEqual([id, want]);
            expect([id, (await v3Latest(t, auth, { installId: id })).version]).toEqual([id, want]);
          }
          for (const l of previewed) {
            const want = expected(l.id, 30);
            expect([l.id, (await check(t, auth, { license: l.id })).version]).toEqual([l.id, want]);
            expect([l.id, (await upgradeFrom(t, account, auth, base.id, { license: l.id })).version]).toEqual([l.id, want]);
          }
        }
      }
      expect([installs.length, previewed.length]).toEqual([8, 8]);
    });

    it('license= from a license or user caller is 403; an unknown license, or one of another product for a product token, is 404', async () => {
      const [l] = licenses;
      const user = await createUser(mem, account);
      for (const t of both()) {
        for (const auth of [licenseAuth(l.key), bearer(user.token)]) {
          for (const res of [await check(t, auth, { license: l.id }), await upgradeFrom(t, account, auth, base.id, { license: l.id })]) {
            expect(res.status).toBe(403);
            expect(res.body.errors[0]).toMatchObject({ status: '403', source: { parameter: 'license' } });
          }
        }
        const unknown = randomUUID();
        for (const auth of tokens()) {
          for (const res of [await check(t, auth, { license: unknown }), await upgradeFrom(t, account, auth, base.id, { license: unknown })]) {
            expect(res.status).toBe(404);
            expect(res.body.errors[0]).toMatchObject({ status: '404', code: 'NOT_FOUND', source: { parameter: 'license' } });
          }
        }
        const foreign = await check(t, bearer(productToken), { license: otherLicense.id });
        expect(foreign.status).toBe(404);
        expect(foreign.body.errors[0].source).toEqual({ parameter: 'license' });
        // the other product's token does not learn about this product's licenses either
        const otherToken = await check(t, bearer(otherProductToken), { license: l.id });
        expect(otherToken.status).toBe(404);
      }
    });
  });

  describe('validation', () => {
    const bad: Array<[string, unknown]> = [
      ['rolloutPercentage', -1],
      ['rolloutPercentage', 101],
      ['rolloutPercentage', 1.5],
      ['rolloutPercentage', '50'],
      ['rolloutPercentage', null],
      ['critical', 'yes'],
      ['critical', null],
      ['critical', 1],
    ];

    it.each(bad)('%s = %j is 422 pointing at the attribute, on create and on update', async (attribute, value) => {
      const admin = api(mem, bearer(account.adminToken));
      const created = await admin.post(`/v1/accounts/${account.id}/releases`, {
        data: {
          type: 'releases',
          attributes: { version: '9.9.9', channel: 'stable', platform: LINUX, filename: `bad-${randomUUID()}.tar.gz`, filetype: 'tar.gz', [attribute]: value },
          relationships: { product: { data: { type: 'products', id: product.id } } },
        },
      });
      expect(created.status).toBe(422);
      expect(created.body.errors[0]).toMatchObject({ status: '422', source: { pointer: `/data/attributes/${attribute}` } });
      const updated = await admin.patch(`/v1/accounts/${account.id}/releases/${staged.id}`, { data: { type: 'releases', id: staged.id, attributes: { [attribute]: value } } });
      expect(updated.status).toBe(422);
      expect(updated.body.errors[0]).toMatchObject({ status: '422', source: { pointer: `/data/attributes/${attribute}` } });
      for (const res of [created, updated]) expect(res.body.errors[0].code).toMatch(/^(ROLLOUT_PERCENTAGE|CRITICAL)_(INVALID|MISSING)$/);
      const after = await admin.get(`/v1/accounts/${account.id}/releases/${staged.id}`);
      expect(after.body.data.attributes).toMatchObject({ rolloutPercentage: 30, critical: false });
    });

    it('accepts the bounds and defaults to 100 % and not critical', async () => {
      const admin = api(mem, bearer(account.adminToken));
      const create = (attributes: Record<string, unknown>) =>
        admin.post(`/v1/accounts/${account.id}/releases`, {
          data: {
            type: 'releases',
            attributes: { version: `0.0.${Math.floor(Math.random() * 1e6)}`, channel: 'stable', platform: 'freebsd', filename: `ok-${randomUUID()}.tar.gz`, filetype: 'tar.gz', ...attributes },
            relationships: { product: { data: { type: 'products', id: product.id } } },
          },
        });
      const plain = await create({});
      expect(plain.status).toBe(201);
      expect(plain.body.data.attributes).toMatchObject({ rolloutPercentage: 100, critical: false });
      const zero = await create({ rolloutPercentage: 0, critical: true });
      expect(zero.status).toBe(201);
      expect(zero.body.data.attributes).toMatchObject({ rolloutPercentage: 0, critical: true });
      expect(await patchRelease(mem, account, zero.body.data.id, { rolloutPercentage: 100, critical: false })).toMatchObject({ rolloutPercentage: 100, critical: false });
    });
  });
});

/** The first `id-<n>` installId for which `ok` holds. */
function installIdWhere(ok: (id: string) => boolean): string {
  for (let n = 0; ; n++) if (ok(`id-${n}`)) return `id-${n}`;
}
