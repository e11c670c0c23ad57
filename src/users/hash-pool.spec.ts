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

describe('HashPool', () => {
  it('runs at most `concurrency` checks at once, queues up to `queueLimit` per lane, and refuses beyond with 503 and Retry-After', async () => {
    const pool = new HashPool(2, 1);
    const started: string[] = [];
    const checks = ['a', 'b', 'c'].map((name) => {
      const check = pending();
      const result = pool.run('other', async () => {
        started.push(name);
        await check.work();
      });
      return { ...check, result };
    });
    await tick();
    expect(started).toEqual(['a', 'b']);
    expect(pool.hasRoom('other')).toBe(false);
    const refused = await pool.run('other', async () => undefined).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 503, errors: [{ code: 'PASSWORD_HASHING_BUSY', status: '503' }] });
    expect(Number((refused as ApiError).headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    expect(() => pool.assertRoom('other')).toThrow(ApiError);
    // the known lane has a queue of its own
    expect(pool.hasRoom('known')).toBe(true);
    checks[0].finish();
    await checks[0].result;
    await tick();
    expect(started).toEqual(['a', 'b', 'c']);
    expect(pool.hasRoom('other')).toBe(true);
    checks[1].finish();
    checks[2].finish();
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
