import { DataSource } from 'typeorm';
import { EventsService } from '../../src/events/events.service';
import { startApp, TestApp } from '../support/app';
import { createProduct } from '../support/catalogue.factories';
import { api, bearer, createAccount, TestAccount } from '../support/factories';
import { WebhookReceiver, waitFor } from '../support/webhook-receiver';

/**
 * Fairness between tenants and the circuit breaker, with real receivers and two instances sharing
 * the queue: a tenant whose endpoint fails (or hangs until the 10 s timeout) for 1,000 deliveries
 * neither delays another tenant's delivery nor gets more than WEBHOOKS_ENDPOINT_CONCURRENCY
 * requests at once; after WEBHOOKS_CIRCUIT_THRESHOLD failures its circuit opens, its deliveries
 * wait for a probe, and they all go once it answers again.
 */
describe('webhook fairness and the circuit breaker', () => {
  const THRESHOLD = 2;
  const PROBE_SECONDS = 3;
  const env = {
    WEBHOOKS_ALLOW_PRIVATE: 'true',
    WORKERS_POLL_SECONDS: '1',
    // quick retries (each delivery's own schedule still applies under the circuit), 69 s in all
    WEBHOOKS_RETRY_SCHEDULE: '1,1,1,1,1,1,1,1,1,60',
    WEBHOOKS_CIRCUIT_THRESHOLD: String(THRESHOLD),
    WEBHOOKS_CIRCUIT_PROBE_SECONDS: String(PROBE_SECONDS),
  };
  let a: TestApp;
  let b: TestApp;
  let db: DataSource;
  const receiver = new WebhookReceiver();
  let receiverUrl: string;

  beforeAll(async () => {
    receiverUrl = await receiver.start();
    [a, b] = await Promise.all([startApp(env), startApp(env)]);
    db = a.app.get(DataSource);
  });
  afterAll(async () => {
    // hung requests end first, so that the instances' in-flight attempts end at once
    await receiver.close();
    await Promise.all([a.close(), b.close()]);
  });

  async function endpoint(t: TestApp, account: TestAccount, path: string, events: string[]): Promise<string> {
    const res = await api(t, bearer(account.adminToken)).post(`/v1/accounts/${account.id}/webhook-endpoints`, {
      data: { type: 'webhook-endpoints', attributes: { url: `${receiverUrl}${path}`, events } },
    });
    expect(res.status).toBe(201);
    expect(res.body.data.attributes).toMatchObject({ circuit: 'closed', consecutiveFailures: 0, nextProbe: null });
    return res.body.data.id;
  }

  const changes = (account: TestAccount, productId: string, n: number) =>
    Array.from({ length: n }, (_, i) => ({
      accountId: account.id,
      event: 'product.updated' as const,
      resource: { type: 'products', id: productId },
      payload: { type: 'products', id: productId, attributes: { name: `change ${i}` } },
    }));

  /** `n` product.updated events of `account` in one committed transaction (their deliveries are queued with them). */
  async function queueEvents(account: TestAccount, productId: string, n: number): Promise<void> {
    await db.transaction((m) => a.app.get(EventsService).recordMany(m, changes(account, productId, n)));
  }

  const circuitOf = async (t: TestApp, account: TestAccount, id: string) =>
    (await api(t, bearer(account.adminToken)).get(`/v1/accounts/${account.id}/webhook-endpoints/${id}`)).body.data.attributes as {
      circuit: string;
      consecutiveFailures: number;
      nextProbe: string | null;
    };

  it("delivers a healthy tenant's event within 5 s while another tenant's 1,000 deliveries hang until the timeout, then opens that endpoint's circuit", async () => {
    const tenantA = await createAccount(a);
    const tenantB = await createAccount(b);
    const hangId = await endpoint(a, tenantA, '/hang', ['product.updated']);
    await endpoint(b, tenantB, '/healthy', ['product.created']);
    let healed = false;
    const hung: Array<(status: number) => void> = [];
    // /hang never answers (the sender gives up after WEBHOOKS_TIMEOUT_SECONDS, 10 s) until healed
    receiver.answer = ({ path }) => (path === '/hang' && !healed ? new Promise<number>((resolve) => hung.push(resolve)) : 204);

    const productA = await createProduct(a, tenantA);
    await queueEvents(tenantA, productA.id, 1000);
    // both instances are attempting tenant A's deliveries (and waiting)
    await waitFor(() => receiver.openNow('/hang') === 2, 10_000, "tenant A's first attempts");

    const changed = Date.now();
    const productB = await createProduct(b, tenantB);
    await waitFor(() => receiver.accepted('/healthy').length === 1, 10_000, "tenant B's delivery");
    const latency = receiver.accepted('/healthy')[0].at - changed;
    console.log(`[fairness] tenant B's delivery arrived ${latency} ms after its change, behind 1,000 hanging deliveries of tenant A`);
    expect(receiver.accepted('/healthy')[0].json).toMatchObject({ event: 'product.created', account: tenantB.id, data: { id: productB.id } });
    expect(latency).toBeLessThan(5000);

    // the failing endpoint's circuit opens after THRESHOLD failed attempts (the first two 10 s timeouts)
    await waitFor(async () => (await circuitOf(a, tenantA, hangId)).circuit === 'open', 40_000, "tenant A's circuit to open");
    const opened = await circuitOf(b, tenantA, hangId);
    const openedAt = Date.now();
    expect(opened.consecutiveFailures).toBeGreaterThanOrEqual(THRESHOLD);
    expect(Date.parse(opened.nextProbe!)).toBeGreaterThan(openedAt - 1000);
    // never more than WEBHOOKS_ENDPOINT_CONCURRENCY (2) requests at once, across both instances, and only a handful in all
    expect(receiver.maxOpen('/hang')).toBe(2);
    expect(receiver.arrivals.filter((r) => r.path === '/hang').length).toBeLessThanOrEqual(THRESHOLD + 2);
    // the rest wait for the probe: still PENDING, not attempted, due at the probe
    const waiting = await db.query(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE d.attempts = 0 AND d.next_attempt = w.next_probe)::int AS postponed
         FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id WHERE d.endpoint_id = $1 AND d.status = 'PENDING'`,
      [hangId],
    );
    expect(waiting[0].n).toBe(1000);
    expect(waiting[0].postponed).toBeGreaterThanOrEqual(1000 - THRESHOLD - 2);

    // the receiver recovers; the probe (PROBE_SECONDS after opening) finds it, and everything follows
    healed = true;
    // an attempt still hanging began before the circuit opened: it fails (as its timeout would), so
    // that the probe, not a late success of that attempt, is what closes the circuit
    hung.forEach((answer) => answer(503));
    const attemptsWhenOpened = receiver.arrivals.filter((r) => r.path === '/hang').length;
    await waitFor(async () => (await circuitOf(a, tenantA, hangId)).circuit === 'closed', 20_000, "tenant A's circuit to close");
    const firstAfter = receiver.arrivals.filter((r) => r.path === '/hang')[attemptsWhenOpened];
    expect(firstAfter.at).toBeGreaterThanOrEqual(Date.parse(opened.nextProbe!) - 50);
    await waitFor(() => new Set(receiver.accepted('/hang').map((r) => r.headers['webhook-id'])).size === 1000, 60_000, 'all 1,000 deliveries');
    expect(receiver.maxOpen('/hang')).toBe(2);
    await waitFor(async () => (await db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'DELIVERED'`, [hangId]))[0].n === 1000, 10_000, 'the log');
    // none sent twice after it was accepted
    expect(receiver.accepted('/hang').length).toBe(1000);
    console.log(`[fairness] the 1,000 deliveries went in ${receiver.accepted('/hang').at(-1)!.at - firstAfter.at} ms once the probe found the receiver back`);
  }, 150_000);

  it('shows the circuit on the endpoint: open after the threshold, a failed probe doubles the wait, a manual retry probes at once', async () => {
    const tenant = await createAccount(a);
    const id = await endpoint(a, tenant, '/flaky', ['product.updated']);
    let healthy = false;
    receiver.answer = ({ path }) => (path === '/flaky' && !healthy ? 500 : 204);
    const product = await createProduct(a, tenant);
    await queueEvents(tenant, product.id, 20);

    await waitFor(async () => (await circuitOf(a, tenant, id)).circuit === 'open', 15_000, 'the circuit to open');
    const opened = await circuitOf(a, tenant, id);
    expect(opened.consecutiveFailures).toBeGreaterThanOrEqual(THRESHOLD);
    const admin = api(a, bearer(tenant.adminToken));
    const log = await admin.get(`/v1/accounts/${tenant.id}/webhook-endpoints/${id}/webhook-deliveries?status=PENDING&page[size]=100`);
    const notTried = log.body.data.filter((d: { attributes: { attempts: number } }) => d.attributes.attempts === 0);
    expect(notTried.length).toBeGreaterThanOrEqual(20 - THRESHOLD - 2);
    for (const d of notTried) expect(d.attributes.nextAttempt).toBe(opened.nextProbe);

    // the probe fails: open again, for twice as long
    await waitFor(async () => (await circuitOf(a, tenant, id)).consecutiveFailures > opened.consecutiveFailures, 15_000, 'the probe');
    const reopened = await circuitOf(a, tenant, id);
    expect(reopened.circuit).toBe('open');
    const wait = (at: { nextProbe: string | null }) => Date.parse(at.nextProbe!);
    expect(wait(reopened) - wait(opened)).toBeGreaterThan(PROBE_SECONDS * 1000);

    // the receiver is back; a manual retry probes at once instead of waiting for nextProbe
    healthy = true;
    const retried = await admin.post(`/v1/accounts/${tenant.id}/webhook-deliveries/${notTried[0].id}/actions/retry`);
    expect(retried.status).toBe(200);
    await waitFor(async () => (await circuitOf(a, tenant, id)).circuit === 'closed', 10_000, 'the circuit to close');
    expect(Date.now()).toBeLessThan(wait(reopened));
    await waitFor(() => new Set(receiver.accepted('/flaky').map((r) => r.headers['webhook-id'])).size === 20, 15_000, 'every delivery');
    expect(await circuitOf(a, tenant, id)).toMatchObject({ circuit: 'closed', consecutiveFailures: 0, nextProbe: null });
  }, 60_000);

  it("an admin's changes: a new url closes the circuit and sends what it held back, disabling fails what is pending", async () => {
    const tenant = await createAccount(a);
    const admin = api(a, bearer(tenant.adminToken));
    const id = await endpoint(a, tenant, '/moved-away', ['product.updated']);
    receiver.answer = ({ path }) => (path === '/moved-away' || path === '/disabled' ? 503 : 204);
    const product = await createProduct(a, tenant);
    await queueEvents(tenant, product.id, 5);
    await waitFor(async () => (await circuitOf(a, tenant, id)).circuit === 'open', 15_000, 'the circuit to open');
    const moved = await admin.patch(`/v1/accounts/${tenant.id}/webhook-endpoints/${id}`, {
      data: { type: 'webhook-endpoints', id, attributes: { url: `${receiverUrl}/moved-here` } },
    });
    expect(moved.status).toBe(200);
    expect(moved.body.data.attributes).toMatchObject({ circuit: 'closed', consecutiveFailures: 0, nextProbe: null });
    // what waited for the probe is due at once
    const held = await db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'PENDING' AND next_attempt > now()`, [id]);
    expect(held[0].n).toBe(0);
    await waitFor(() => new Set(receiver.accepted('/moved-here').map((r) => r.headers['webhook-id'])).size === 5, 15_000, 'the deliveries at the new url');

    const off = await endpoint(a, tenant, '/disabled', ['product.updated']);
    await queueEvents(tenant, product.id, 3);
    await waitFor(() => receiver.received.filter((r) => r.path === '/disabled').length >= 1, 10_000, 'a first attempt');
    expect((await admin.patch(`/v1/accounts/${tenant.id}/webhook-endpoints/${off}`, { data: { type: 'webhook-endpoints', id: off, attributes: { enabled: false } } })).status).toBe(200);
    await waitFor(async () => {
      const log = await admin.get(`/v1/accounts/${tenant.id}/webhook-endpoints/${off}/webhook-deliveries`);
      return log.body.data.length === 3 && log.body.data.every((d: { attributes: { status: string } }) => d.attributes.status === 'FAILED');
    }, 15_000, 'the pending deliveries to fail');
    const log = await admin.get(`/v1/accounts/${tenant.id}/webhook-endpoints/${off}/webhook-deliveries`);
    expect(log.body.data.map((d: { attributes: { lastError: string } }) => d.attributes.lastError)).toContain('the endpoint is disabled');
  });

  it("picks a delivery again once the lease of a worker that died has expired, never while it holds", async () => {
    const tenant = await createAccount(a);
    const id = await endpoint(a, tenant, '/leased', ['product.updated']);
    receiver.answer = () => 204;
    const product = await createProduct(a, tenant);
    // two deliveries as a worker that died mid-attempt left them: one lease still running, one expired
    // (in the transaction that queues them, so that no worker sees them unleased)
    await db.transaction(async (m) => {
      await a.app.get(EventsService).recordMany(m, changes(tenant, product.id, 2));
      const rows: Array<{ id: string }> = await m.query('SELECT id FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY created, id', [id]);
      await m.query(`UPDATE webhook_deliveries SET lease_token = gen_random_uuid(), lease_until = now() + interval '1 hour' WHERE id = $1`, [rows[0].id]);
      await m.query(`UPDATE webhook_deliveries SET lease_token = gen_random_uuid(), lease_until = now() - interval '1 second' WHERE id = $1`, [rows[1].id]);
    });
    await waitFor(() => receiver.accepted('/leased').length === 1, 10_000, 'the expired lease to be picked');
    await new Promise((r) => setTimeout(r, 2500));
    expect(receiver.received.filter((r) => r.path === '/leased')).toHaveLength(1);
    const states = await db.query('SELECT status, lease_token IS NULL AS free FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY status', [id]);
    expect(states).toEqual([{ status: 'DELIVERED', free: true }, { status: 'PENDING', free: false }]);
  });
});
