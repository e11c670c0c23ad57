import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { DataSource } from 'typeorm';
import { startApp, TestApp } from '../support/app';
import { randomFile, uploadArtifact, putArtifact } from '../support/artifact.factories';
import { createLicense, createProduct, licenseAuth } from '../support/catalogue.factories';
import { api, bearer, createAccount, TestAccount } from '../support/factories';
import { createRelease } from '../support/release.factories';
import { WebhookReceiver, waitFor } from '../support/webhook-receiver';

/**
 * Webhook endpoints and deliveries against a real receiver on this machine (hence
 * WEBHOOKS_ALLOW_PRIVATE), with the retry schedule shortened to 1 s waits. Signatures are checked
 * with `standardwebhooks`, the Standard Webhooks reference library a receiver would use.
 */
describe('webhooks', () => {
  let t: TestApp;
  let account: TestAccount;
  let admin: ReturnType<typeof api>;
  let productId: string;
  const receiver = new WebhookReceiver();
  let receiverUrl: string;
  const base = () => `/v1/accounts/${account.id}`;

  async function createEndpoint(path: string, events: string[]): Promise<{ id: string; secret: string }> {
    const res = await admin.post(`${base()}/webhook-endpoints`, { data: { type: 'webhook-endpoints', attributes: { url: `${receiverUrl}${path}`, events } } });
    expect(res.status).toBe(201);
    return { id: res.body.data.id, secret: res.body.data.attributes.secret };
  }

  beforeAll(async () => {
    receiverUrl = await receiver.start();
    t = await startApp({ WEBHOOKS_ALLOW_PRIVATE: 'true', WEBHOOKS_RETRY_SCHEDULE: '1,1,1', WORKERS_POLL_SECONDS: '1' });
    account = await createAccount(t);
    admin = api(t, bearer(account.adminToken));
    productId = (await createProduct(t, account)).id;
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  describe('endpoints', () => {
    it('are created with a secret shown once, read back without it, changed, rotated and deleted', async () => {
      const res = await admin.post(`${base()}/webhook-endpoints`, { data: { type: 'webhook-endpoints', attributes: { url: `${receiverUrl}/crud` } } });
      expect(res.status).toBe(201);
      expect(res.headers.location).toBe(`${base()}/webhook-endpoints/${res.body.data.id}`);
      expect(res.headers['cache-control']).toContain('no-store');
      const { id, attributes } = res.body.data;
      expect(attributes).toMatchObject({ url: `${receiverUrl}/crud`, events: ['*'], enabled: true });
      expect(attributes.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

      const shown = await admin.get(`${base()}/webhook-endpoints/${id}`);
      expect(shown.status).toBe(200);
      expect(shown.body.data.attributes).not.toHaveProperty('secret');
      const list = await admin.get(`${base()}/webhook-endpoints`);
      expect(list.body.data.map((e: { id: string }) => e.id)).toContain(id);
      expect(JSON.stringify(list.body)).not.toContain(attributes.secret);

      const patched = await admin.patch(`${base()}/webhook-endpoints/${id}`, { data: { type: 'webhook-endpoints', id, attributes: { enabled: false, events: ['release.published', 'release.published'] } } });
      expect(patched.status).toBe(200);
      expect(patched.body.data.attributes).toMatchObject({ enabled: false, events: ['release.published'] });

      const rotated = await admin.post(`${base()}/webhook-endpoints/${id}/actions/rotate-secret`);
      expect(rotated.status).toBe(200);
      expect(rotated.body.data.attributes.secret).toMatch(/^whsec_/);
      expect(rotated.body.data.attributes.secret).not.toBe(attributes.secret);

      expect((await admin.delete(`${base()}/webhook-endpoints/${id}`)).status).toBe(204);
      expect((await admin.get(`${base()}/webhook-endpoints/${id}`)).status).toBe(404);
    });

    it.each([
      [{ url: 'ftp://example.com/hook' }, 'URL_INVALID', '/data/attributes/url'],
      [{ url: 'not a url' }, 'URL_INVALID', '/data/attributes/url'],
      [{ url: 'https://example.com/hook', events: ['release.exploded'] }, 'EVENTS_INVALID', '/data/attributes/events'],
      [{ url: 'https://example.com/hook', events: [] }, 'EVENTS_INVALID', '/data/attributes/events'],
      [{ url: 'https://example.com/hook', enabled: 'yes' }, 'ENABLED_INVALID', '/data/attributes/enabled'],
      [{ events: ['*'] }, 'URL_MISSING', '/data/attributes/url'],
    ])('refuses %j with 422 %s', async (attributes, code, pointer) => {
      const res = await admin.post(`${base()}/webhook-endpoints`, { data: { type: 'webhook-endpoints', attributes } });
      expect(res.status).toBe(422);
      expect(res.body.errors[0]).toMatchObject({ code, source: { pointer } });
    });

    it('are for admins only', async () => {
      const license = await createLicense(t, account, productId);
      expect((await api(t, licenseAuth(license.key)).get(`${base()}/webhook-endpoints`)).status).toBe(403);
      expect((await api(t, licenseAuth(license.key)).get(`${base()}/webhook-deliveries`)).status).toBe(403);
      expect((await api(t).get(`${base()}/webhook-endpoints`)).status).toBe(401);
      const other = await createAccount(t);
      const { id } = await createEndpoint('/private', ['*']);
      // another account's admin does not find it
      expect((await api(t, bearer(other.adminToken)).get(`/v1/accounts/${other.id}/webhook-endpoints/${id}`)).status).toBe(404);
      expect((await admin.delete(`${base()}/webhook-endpoints/${id}`)).status).toBe(204);
    });
  });

  it('delivers creating, publishing and yanking a release once per subscribed endpoint, signed, retried until accepted', async () => {
    const a = await createEndpoint('/a', ['release.created', 'release.published', 'release.yanked']);
    const b = await createEndpoint('/b', ['*']);
    await createEndpoint('/c', ['license.created']);
    // /a fails the first two attempts of every message and accepts the third
    receiver.answer = ({ path }, attempt) => (path === '/a' && attempt <= 2 ? 500 : 204);

    const release = await createRelease(t, account, productId, { version: '3.0.0' });
    await uploadArtifact(t, account, release.id, randomFile(256));
    expect((await admin.post(`${base()}/releases/${release.id}/actions/yank`)).status).toBe(200);

    const ours = (path: string) => receiver.accepted(path).filter((r) => (r.json.data as { id?: string }).id === release.id || (r.json.data as { relationships?: { release?: { data?: { id: string } } } }).relationships?.release?.data?.id === release.id);
    await waitFor(() => ours('/a').length === 3, 30_000, 'three deliveries to /a');
    await waitFor(() => ours('/b').length === 4, 30_000, 'four deliveries to /b');

    const atA = ours('/a');
    expect(atA.map((r) => r.json.event).sort()).toEqual(['release.created', 'release.published', 'release.yanked']);
    for (const r of atA) {
      // the reference library accepts the signature, and the body is the contract's
      expect(new Webhook(a.secret).verify(r.body, r.headers)).toEqual(r.json);
      expect(() => new Webhook(b.secret).verify(r.body, r.headers)).toThrow();
      expect(r.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(r.json).toMatchObject({ id: r.headers['webhook-id'], account: account.id, data: { type: 'releases', id: release.id } });
      expect(new Date(r.json.created).toISOString()).toBe(r.json.created);
      // two failed attempts, then this one, all with the same message id
      expect(receiver.received.filter((x) => x.path === '/a' && x.headers['webhook-id'] === r.json.id).map((x) => x.status)).toEqual([500, 500, 204]);
    }
    const published = atA.find((r) => r.json.event === 'release.published')!;
    expect((published.json.data as { attributes: { status: string } }).attributes.status).toBe('PUBLISHED');

    const atB = ours('/b');
    expect(atB.map((r) => r.json.event).sort()).toEqual(['artifact.uploaded', 'release.created', 'release.published', 'release.yanked']);
    for (const r of atB) expect(new Webhook(b.secret).verify(r.body, r.headers)).toEqual(r.json);
    // each message once at /b (it never failed there)
    expect(new Set(atB.map((r) => r.json.id)).size).toBe(4);
    expect(receiver.received.filter((r) => r.path === '/c')).toEqual([]);

    // the delivery log of /a
    await waitFor(async () => {
      const res = await admin.get(`${base()}/webhook-endpoints/${a.id}/webhook-deliveries`);
      return res.body.data.length === 3 && res.body.data.every((d: { attributes: { status: string } }) => d.attributes.status === 'DELIVERED');
    }, 15_000, 'the delivery log');
    const log = await admin.get(`${base()}/webhook-deliveries?endpoint=${a.id}`);
    expect(log.status).toBe(200);
    for (const d of log.body.data) {
      expect(d.attributes).toMatchObject({ status: 'DELIVERED', attempts: 3, lastStatusCode: 204, lastError: null, nextAttempt: null });
      expect(d.relationships.endpoint.data).toEqual({ type: 'webhook-endpoints', id: a.id });
    }

    // the event log lists the same events, under the ids the receiver saw
    const events = await admin.get(`${base()}/events?resource=${release.id}&type=release.created,release.published,release.yanked`);
    expect(events.status).toBe(200);
    expect(events.body.data.map((e: { attributes: { event: string } }) => e.attributes.event)).toEqual(['release.yanked', 'release.published', 'release.created']);
    expect(events.body.data.map((e: { id: string }) => e.id).sort()).toEqual(atA.map((r) => r.json.id).sort());

    for (const id of [a.id, b.id]) expect((await admin.delete(`${base()}/webhook-endpoints/${id}`)).status).toBe(204);
  });

  it('marks a delivery FAILED when the schedule is spent, and a manual retry delivers it', async () => {
    const d = await createEndpoint('/down', ['product.created']);
    let up = false;
    receiver.answer = ({ path }) => (path === '/down' && !up ? 503 : 204);
    const product = await createProduct(t, account);
    let delivery: { id: string; attributes: Record<string, unknown> } | undefined;
    await waitFor(async () => {
      const res = await admin.get(`${base()}/webhook-endpoints/${d.id}/webhook-deliveries`);
      delivery = res.body.data[0];
      return delivery?.attributes.status === 'FAILED';
    }, 30_000, 'the delivery to fail');
    // the first attempt and one per scheduled wait (1,1,1)
    expect(delivery!.attributes).toMatchObject({ event: 'product.created', attempts: 4, lastStatusCode: 503, lastError: 'the receiver answered 503', nextAttempt: null });

    up = true;
    const retried = await admin.post(`${base()}/webhook-deliveries/${delivery!.id}/actions/retry`);
    expect(retried.status).toBe(200);
    expect(retried.body.data.attributes.status).toBe('PENDING');
    await waitFor(async () => (await admin.get(`${base()}/webhook-deliveries/${delivery!.id}`)).body.data.attributes.status === 'DELIVERED', 15_000, 'the retried delivery');
    const done = (await admin.get(`${base()}/webhook-deliveries/${delivery!.id}`)).body.data.attributes;
    expect(done).toMatchObject({ attempts: 5, lastStatusCode: 204, lastError: null });
    const accepted = receiver.accepted('/down');
    expect(accepted).toHaveLength(1);
    expect(accepted[0].json).toMatchObject({ event: 'product.created', data: { id: product.id, type: 'products' } });

    expect((await admin.post(`${base()}/webhook-deliveries/${randomUUID()}/actions/retry`)).status).toBe(404);
    expect((await admin.delete(`${base()}/webhook-endpoints/${d.id}`)).status).toBe(204);
  });

  it('signs with the new secret once it is rotated', async () => {
    const e = await createEndpoint('/rotated', ['product.updated']);
    receiver.answer = () => 204;
    const rotated = (await admin.post(`${base()}/webhook-endpoints/${e.id}/actions/rotate-secret`)).body.data.attributes.secret as string;
    const res = await admin.patch(`${base()}/products/${productId}`, { data: { type: 'products', id: productId, attributes: { name: 'Renamed' } } });
    expect(res.status).toBe(200);
    await waitFor(() => receiver.accepted('/rotated').length === 1, 15_000, 'the delivery');
    const [r] = receiver.accepted('/rotated');
    expect(new Webhook(rotated).verify(r.body, r.headers)).toMatchObject({ event: 'product.updated' });
    expect(() => new Webhook(e.secret).verify(r.body, r.headers)).toThrow();
    expect((await admin.delete(`${base()}/webhook-endpoints/${e.id}`)).status).toBe(204);
  });

  it('never records nor delivers the events of a change that rolled back', async () => {
    const all = await createEndpoint('/rollback', ['*']);
    receiver.answer = () => 204;
    const db = t.app.get(DataSource);
    const release = await createRelease(t, account, productId, { version: '4.0.0', name: `explode-${randomUUID()}` });
    // the upload's transaction records artifact.uploaded, then fails at release.published
    await db.query(`
      CREATE FUNCTION test_refuse_publish() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.event = 'release.published' AND NEW.payload->'attributes'->>'name' LIKE 'explode-%' THEN
          RAISE EXCEPTION 'refused by the test';
        END IF;
        RETURN NEW;
      END $$`);
    await db.query('CREATE TRIGGER test_refuse_publish BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION test_refuse_publish()');
    try {
      const res = await putArtifact(t, account, release.id, randomFile(128));
      expect(res.status).toBe(500);
    } finally {
      await db.query('DROP TRIGGER test_refuse_publish ON events');
      await db.query('DROP FUNCTION test_refuse_publish()');
    }
    // a license update refused by a constraint is another change that did not happen
    const license = await createLicense(t, account, productId);
    const other = await createLicense(t, account, productId);
    const taken = await admin.patch(`${base()}/licenses/${license.id}`, { data: { type: 'licenses', id: license.id, attributes: { key: other.key } } });
    expect(taken.status).toBe(422);

    // a later change, delivered after anything the rolled-back ones could have produced
    const marker = await createProduct(t, account);
    await waitFor(() => receiver.accepted('/rollback').some((r) => (r.json.data as { id: string }).id === marker.id), 15_000, 'the marker');
    const events = await admin.get(`${base()}/events?resource=${release.id}`);
    expect(events.body.data.map((e: { attributes: { event: string } }) => e.attributes.event)).toEqual(['release.created']);
    expect((await admin.get(`${base()}/events?resource=${license.id}`)).body.data.map((e: { attributes: { event: string } }) => e.attributes.event)).toEqual(['license.created']);
    const seen = receiver.accepted('/rollback').map((r) => r.json.event);
    expect(seen).not.toContain('artifact.uploaded');
    expect(seen).not.toContain('release.published');
    expect(seen).not.toContain('license.updated');
    expect((await admin.get(`${base()}/releases/${release.id}`)).body.data.attributes.status).toBe('NOT_PUBLISHED');
    expect((await admin.delete(`${base()}/webhook-endpoints/${all.id}`)).status).toBe(204);
  });
});
