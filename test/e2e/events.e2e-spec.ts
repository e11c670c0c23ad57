import { DataSource } from 'typeorm';
import { CountersService } from '../../src/counters/counters.service';
import { EventsService } from '../../src/events/events.service';
import { startApp, TestApp } from '../support/app';
import { artifactPath, randomFile, uploadArtifact } from '../support/artifact.factories';
import { createEntitlement, createLicense, createProduct, createProductToken, licenseAuth } from '../support/catalogue.factories';
import { api, bearer, createAccount, createUser, TestAccount } from '../support/factories';
import { createRelease } from '../support/release.factories';

type EventDoc = { id: string; attributes: { event: string; created: string; payload: Record<string, any> }; relationships: { resource: { data: { type: string; id: string } } } };

/** The event log: one event per change and counted use, admins only, filtered and paged by cursor. */
describe('events', () => {
  let t: TestApp;
  let account: TestAccount;
  let admin: ReturnType<typeof api>;
  const base = () => `/v1/accounts/${account.id}`;
  const eventsOf = async (query: string): Promise<EventDoc[]> => {
    const res = await admin.get(`${base()}/events?page[size]=100&${query}`);
    expect(res.status).toBe(200);
    return res.body.data;
  };
  const names = (events: EventDoc[]) => events.map((e) => e.attributes.event);

  beforeAll(async () => {
    // no WEBHOOKS_ALLOW_PRIVATE here: local webhook URLs are refused. Counters are written when a
    // test flushes them (the timer's own flush, a minute away, cannot split a test's uses in two)
    t = await startApp({ EVENTS_RETENTION_DAYS: '30', COUNTERS_FLUSH_MS: '60000' });
    account = await createAccount(t);
    admin = api(t, bearer(account.adminToken));
  });
  afterAll(() => t.close());

  it('records every change of products, licenses, users, tokens, releases, constraints and artifacts, newest first', async () => {
    const product = await createProduct(t, account);
    expect((await admin.patch(`${base()}/products/${product.id}`, { data: { type: 'products', id: product.id, attributes: { name: 'New name' } } })).status).toBe(200);
    const license = await createLicense(t, account, product.id);
    expect((await admin.patch(`${base()}/licenses/${license.id}`, { data: { type: 'licenses', id: license.id, attributes: { name: 'Ada' } } })).status).toBe(200);
    for (const action of ['suspend', 'suspend', 'reinstate']) expect((await admin.post(`${base()}/licenses/${license.id}/actions/${action}`)).status).toBe(200);
    expect((await admin.delete(`${base()}/licenses/${license.id}`)).status).toBe(204);
    const user = await createUser(t, account);
    const token = await createProductToken(t, account, product.id);
    expect((await admin.delete(`${base()}/tokens/${token.id}`)).status).toBe(204);
    expect((await admin.delete(`${base()}/users/${user.id}`)).status).toBe(204);

    const release = await createRelease(t, account, product.id, { version: '1.0.0' });
    expect((await admin.patch(`${base()}/releases/${release.id}`, { data: { type: 'releases', id: release.id, attributes: { name: 'One' } } })).status).toBe(200);
    const entitlement = await createEntitlement(t, account);
    const attached = await admin.post(`${base()}/releases/${release.id}/constraints`, { data: [{ type: 'constraints', relationships: { entitlement: { data: { type: 'entitlements', id: entitlement.id } } } }] });
    expect(attached.status).toBe(200);
    expect((await admin.delete(`${base()}/releases/${release.id}/constraints`).send({ data: [{ type: 'constraints', id: attached.body.data[0].id }] }).set('Content-Type', 'application/vnd.api+json')).status).toBe(204);
    await uploadArtifact(t, account, release.id, randomFile(64));
    expect((await admin.post(`${base()}/releases/${release.id}/actions/yank`)).status).toBe(200);
    expect((await admin.post(`${base()}/releases/${release.id}/actions/yank`)).status).toBe(200); // no change, no event
    expect((await admin.post(`${base()}/releases/${release.id}/actions/publish`)).status).toBe(200);
    expect((await admin.delete(artifactPath(account, release.id))).status).toBe(204);
    expect((await admin.delete(`${base()}/releases/${release.id}`)).status).toBe(204);
    expect((await admin.delete(`${base()}/products/${product.id}`)).status).toBe(204);

    const all = await eventsOf('');
    expect(names(all).reverse()).toEqual([
      'user.created', // the account's first admin
      'token.created', // its token (createAccount)
      'product.created', 'product.updated',
      'license.created', 'license.updated', 'license.suspended', 'license.reinstated', 'license.deleted',
      'user.created', 'token.created', // the user and its token
      'token.created', 'token.revoked', // the product token
      'user.deleted',
      'release.created', 'release.updated', 'release.constraints.attached', 'release.constraints.detached',
      'artifact.uploaded', 'release.published', 'release.yanked', 'release.published', 'artifact.deleted', 'release.deleted',
      'product.deleted',
    ]);
    const byName = (name: string) => all.filter((e) => e.attributes.event === name);
    // the payload is the resource as the API shows it
    const created = byName('product.created')[0];
    expect(created.attributes.payload).toMatchObject({ type: 'products', id: product.id, attributes: { name: product.name } });
    expect(created.relationships.resource.data).toEqual({ type: 'products', id: product.id });
    expect(byName('product.updated')[0].attributes.payload.attributes.name).toBe('New name');
    expect(byName('license.suspended')[0].attributes.payload.attributes).toMatchObject({ suspended: true, status: 'SUSPENDED' });
    expect(byName('release.yanked')[0].attributes.payload.attributes.status).toBe('YANKED');
    expect(byName('release.constraints.attached')[0].attributes.payload).toMatchObject({
      release: { type: 'releases', id: release.id },
      constraints: [{ type: 'constraints', relationships: { entitlement: { data: { id: entitlement.id } } } }],
    });
    // never a secret: no token in token events, no password digest in user events
    for (const e of [...byName('token.created'), ...byName('token.revoked')]) expect(e.attributes.payload.attributes).not.toHaveProperty('token');
    expect(JSON.stringify(all)).not.toContain(token.token);
    expect(JSON.stringify(all)).not.toMatch(/password/i);
  });

  it('records downloads and upgrades from the counters flush, one event per caller, release and version with its count', async () => {
    const product = await createProduct(t, account);
    const license = await createLicense(t, account, product.id);
    const release = await createRelease(t, account, product.id, { version: '2.0.0' });
    await uploadArtifact(t, account, release.id, randomFile(64));
    const customer = api(t, licenseAuth(license.key));
    for (let i = 0; i < 3; i++) {
      const res = await customer.get(`${base()}/releases/actions/upgrade?product=${product.id}&platform=linux/amd64&version=1.5.0`);
      expect(res.status).toBe(303);
    }
    expect((await customer.get(`${base()}/releases/actions/upgrade?product=${product.id}&platform=linux/amd64&version=1.9.0`)).status).toBe(303);
    // the admin's own download is not a counted use
    expect((await admin.get(artifactPath(account, release.id))).status).toBe(303);
    await t.app.get(CountersService).flush();

    const upgrades = await eventsOf(`type=release.upgraded&resource=${release.id}`);
    expect(upgrades.map((e) => [e.attributes.payload.fromVersion, e.attributes.payload.count]).sort()).toEqual([['1.5.0', 3], ['1.9.0', 1]]);
    expect(upgrades[0].attributes.payload).toMatchObject({ release: { type: 'releases', id: release.id }, license: license.id, user: null, toVersion: '2.0.0' });
    const downloads = await eventsOf(`type=artifact.downloaded&resource=${release.id}`);
    expect(downloads).toHaveLength(1);
    expect(downloads[0].attributes.payload).toMatchObject({ license: license.id, version: '2.0.0', count: 4 });
    expect(downloads[0].attributes.payload.release.attributes.downloads).toBe(4);
  });

  it('filters by type, resource and since, and pages by cursor', async () => {
    const product = await createProduct(t, account);
    const since = new Date().toISOString();
    for (let i = 0; i < 5; i++) expect((await admin.patch(`${base()}/products/${product.id}`, { data: { type: 'products', id: product.id, attributes: { name: `v${i}` } } })).status).toBe(200);
    const updates = await eventsOf(`resource=${product.id}&type=product.updated`);
    expect(updates.map((e) => e.attributes.payload.attributes.name)).toEqual(['v4', 'v3', 'v2', 'v1', 'v0']);
    expect(names(await eventsOf(`since=${encodeURIComponent(since)}`))).toEqual(Array(5).fill('product.updated'));
    expect(names(await eventsOf(`since=${encodeURIComponent(since)}&sort=created`))).toHaveLength(5);

    const seen: string[] = [];
    let next: string | null = `${base()}/events?resource=${product.id}&page[size]=2&page[cursor]=`;
    while (next) {
      const res = await admin.get(next);
      expect(res.status).toBe(200);
      seen.push(...res.body.data.map((e: EventDoc) => e.id));
      next = res.body.links.next;
    }
    expect(seen).toEqual(updates.map((e) => e.id).concat((await eventsOf(`resource=${product.id}&type=product.created`)).map((e) => e.id)));

    const one = await admin.get(`${base()}/events/${seen[0]}`);
    expect(one.status).toBe(200);
    expect(one.body.data.links.self).toBe(`${base()}/events/${seen[0]}`);

    for (const [query, parameter] of [['type=release.exploded', 'type'], ['resource=nope', 'resource'], ['since=yesterday', 'since'], ['page[size]=1000', 'page[size]']]) {
      const res = await admin.get(`${base()}/events?${query}`);
      expect(res.status).toBe(400);
      expect(res.body.errors[0]).toMatchObject({ code: 'PARAMETER_INVALID', source: { parameter } });
    }
  });

  it('are for admins only, within their account', async () => {
    const product = await createProduct(t, account);
    const license = await createLicense(t, account, product.id);
    const productToken = await createProductToken(t, account, product.id);
    expect((await api(t, licenseAuth(license.key)).get(`${base()}/events`)).status).toBe(403);
    expect((await api(t, bearer(productToken.token)).get(`${base()}/events`)).status).toBe(403);
    expect((await api(t).get(`${base()}/events`)).status).toBe(401);
    const other = await createAccount(t);
    const theirs = await api(t, bearer(other.adminToken)).get(`/v1/accounts/${other.id}/events?resource=${product.id}`);
    expect(theirs.body.data).toEqual([]);
    const [mine] = await eventsOf(`resource=${product.id}`);
    expect((await api(t, bearer(other.adminToken)).get(`/v1/accounts/${other.id}/events/${mine.id}`)).status).toBe(404);
  });

  it('prunes events older than EVENTS_RETENTION_DAYS, on a schedule', async () => {
    const db = t.app.get(DataSource);
    const product = await createProduct(t, account);
    for (const days of [45, 31, 29]) {
      await db.query(
        `INSERT INTO events (account_id, event, resource_type, resource_id, payload, created) VALUES ($1, 'product.updated', 'products', $2, '{}', now() - make_interval(days => $3))`,
        [account.id, product.id, days],
      );
    }
    expect(await t.app.get(EventsService).prune()).toBe(2);
    const left = await eventsOf(`resource=${product.id}`);
    expect(left).toHaveLength(2); // product.created and the 29-day-old one
    const schedule = await db.query(`SELECT cron FROM pgboss.schedule WHERE name = 'shipgate.events-prune'`);
    expect(schedule).toHaveLength(1);
  });

  it('refuses webhook URLs on loopback, private or link-local addresses (422 URL_INVALID)', async () => {
    for (const url of ['http://127.0.0.1:9/hook', 'http://localhost/hook', 'http://10.1.2.3/hook', 'http://169.254.169.254/latest', 'http://[::1]/hook', 'http://192.168.0.10/']) {
      const res = await admin.post(`${base()}/webhook-endpoints`, { data: { type: 'webhook-endpoints', attributes: { url } } });
      expect(res.status).toBe(422);
      expect(res.body.errors[0]).toMatchObject({ code: 'URL_INVALID', source: { pointer: '/data/attributes/url' } });
      // the refusal says how to allow it, for a receiver on this machine
      expect(res.body.errors[0].detail).toContain('set WEBHOOKS_ALLOW_PRIVATE=true on the server to allow it');
    }
  });
});
