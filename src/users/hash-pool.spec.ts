import { ApiError } from '../jsonapi/errors';
import { HashPool } from './hash-pool';
import type { HashLane } from './hash-pool';

/** A check that finishes when the test says so. */
function pending() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { finish, work: () => done };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Starts a check that finishes when the test says so; `started` records its name when it runs. */
function check(pool: HashPool, lane: HashLane, name: string, started: string[]) {
  const { finish, work } = pending();
  const result = pool.run(lane, async () => {
    started.push(name);
    await work();
  });
  return { finish, result };
}

describe('HashPool', () => {
  it('queues up to `queueLimit` checks per lane and refuses beyond with 503 and Retry-After', async () => {
    const pool = new HashPool(1, 1);
    const started: string[] = [];
    const [a, b] = [check(pool, 'other', 'a', started), check(pool, 'other', 'b', started)];
    await tick();
    expect(started).toEqual(['a']);
    expect(pool.hasRoom('other')).toBe(false);
    const refused = await pool.run('other', async () => undefined).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 503, errors: [{ code: 'PASSWORD_HASHING_BUSY', status: '503' }] });
    expect(Number((refused as ApiError).headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    expect(() => pool.assertRoom('other')).toThrow(ApiError);
    // the known lane has a queue of its own
    expect(pool.hasRoom('known')).toBe(true);
    a.finish();
    await a.result;
    await tick();
    expect(started).toEqual(['a', 'b']);
    expect(pool.hasRoom('other')).toBe(true);
    b.finish();
    await b.result;
  });

  it('runs at most `concurrency` checks at once, other checks on all threads but one (kept for the known lane)', async () => {
    const pool = new HashPool(3, 4);
    const started: string[] = [];
    const checks = [
      check(pool, 'other', 'o1', started),
      check(pool, 'other', 'o2', started),
      check(pool, 'other', 'o3', started),
      check(pool, 'known', 'k1', started),
      check(pool, 'known', 'k2', started),
    ];
    await tick();
    expect(started).toEqual(['o1', 'o2', 'k1']);
    // a freed thread goes to the known lane first, then to others while one is left for the known lane
    checks[0].finish();
    await tick();
    expect(started).toEqual(['o1', 'o2', 'k1', 'k2']);
    checks[3].finish();
    await tick();
    expect(started).toEqual(['o1', 'o2', 'k1', 'k2', 'o3']);
    for (const c of checks) c.finish();
    await Promise.all(checks.map((c) => c.result));
  });

  it('gives a free slot to the known lane first', async () => {
    const pool = new HashPool(1, 4);
    const started: string[] = [];
    const first = pending();
    const running = pool.run('other', first.work);
    const queued = (['other', 'other', 'known', 'other', 'known'] as HashLane[]).map((lane, i) =>
      pool.run(lane, async () => void started.push(`${lane}${i}`)),
    );
    first.finish();
    await Promise.all([running, ...queued]);
    expect(started).toEqual(['known2', 'known4', 'other0', 'other1', 'other3']);
  });

  it('frees the slot when a check fails', async () => {
    const pool = new HashPool(1, 0);
    await expect(pool.run('other', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(pool.run('other', async () => 'ok')).resolves.toBe('ok');
  });
});
