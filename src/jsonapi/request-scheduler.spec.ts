import * as http from 'node:http';
import { promises as fs } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { RequestScheduler } from './request-scheduler';

/** Busy for `ms` of CPU, as an update check answered from memory is. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/**
 * A server whose GETs cost 1 ms of CPU each and whose POST waits for eight file operations one after
 * another (a write's queries); returns when the POST was answered, among the GETs' answers. With
 * `inPromises`, a GET spends three quarters of its millisecond in promise callbacks after its
 * synchronous start, as a route behind async guards and interceptors does.
 */
async function floodWithOneWrite(sliceMs: number | null, inPromises = false): Promise<{ readsBeforeWrite: number; reads: number[] }> {
  const order: number[] = [];
  let answered = 0;
  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (req.method === 'GET') {
      const answer = () => {
        order.push(Number(req.url!.slice(1)));
        answered++;
        res.end('read');
      };
      if (!inPromises) {
        spin(1);
        answer();
        return;
      }
      spin(0.25);
      void (async () => {
        for (let i = 0; i < 3; i++) {
          await Promise.resolve();
          spin(0.25);
        }
        answer();
      })();
      return;
    }
    void (async () => {
      for (let i = 0; i < 8; i++) await fs.stat('package.json');
      res.end(String(answered));
    })();
  };
  const server = http.createServer(sliceMs === null ? handle : new RequestScheduler(handle, sliceMs).admit);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 400 });
  // the vendor's own connection, open before the flood (as a keep-alive client's would be)
  const vendor = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const request = (method: string, path: string) =>
    new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method, path, agent: method === 'GET' ? agent : vendor }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });
  try {
    // connections first, so that every GET's bytes arrive together
    await Promise.all([...Array.from({ length: 300 }, (_, i) => request('GET', `/${-1 - i}`)), request('POST', '/publish')]);
    order.length = 0;
    answered = 0;
    const reads = Array.from({ length: 300 }, (_, i) => request('GET', `/${i}`));
    const write = request('POST', '/publish');
    const readsBeforeWrite = Number(await write);
    await Promise.all(reads);
    return { readsBeforeWrite, reads: [...order] };
  } finally {
    agent.destroy();
    vendor.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('RequestScheduler', () => {
  it('lets a write take its next step between slices of reads, instead of after every read that has arrived', async () => {
    const plain = await floodWithOneWrite(null);
    const scheduled = await floodWithOneWrite(2);
    // without the scheduler each of the write's eight waits lasts a whole turn of the queued reads
    expect(plain.readsBeforeWrite).toBeGreaterThan(200);
    expect(scheduled.readsBeforeWrite).toBeLessThan(80);
    // every read is answered, in the order it arrived
    expect(scheduled.reads).toEqual([...scheduled.reads].sort((a, b) => a - b));
    expect(scheduled.reads).toHaveLength(300);
  });

  it("counts a read's promise callbacks in its slice, not only its synchronous start", async () => {
    const scheduled = await floodWithOneWrite(2, true);
    // two reads fit in a 2 ms slice: the write's eight waits see some 16-18 of them. A slice that
    // saw only each read's synchronous quarter would let eight run (8 ms) per turn: some 64.
    expect(scheduled.readsBeforeWrite).toBeLessThan(40);
    expect(scheduled.reads).toEqual([...scheduled.reads].sort((a, b) => a - b));
    expect(scheduled.reads).toHaveLength(300);
  });

  it('answers writes at once and never answers a read whose client has gone', async () => {
    const seen: string[] = [];
    const scheduler = new RequestScheduler((req) => seen.push(`${req.method} ${req.url}`), 2);
    const res = {} as http.ServerResponse;
    const req = (method: string, url: string, destroyed = false) => ({ method, url, socket: { destroyed } }) as unknown as http.IncomingMessage;
    scheduler.admit(req('GET', '/a'), res);
    scheduler.admit(req('GET', '/gone', true), res);
    scheduler.admit(req('PUT', '/b'), res);
    expect(seen).toEqual(['PUT /b']);
    expect(scheduler.waiting).toBe(2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['PUT /b', 'GET /a']);
    expect(scheduler.waiting).toBe(0);
  });

  it('lets go of a request once it has started, while later reads still wait', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const started: WeakRef<object>[] = [];
    let admitted = 0;
    const req = () => ({ method: 'GET', url: `/${admitted++}`, socket: { destroyed: false } }) as unknown as http.IncomingMessage;
    // a steady flood: every read answered lets two more in, so the queue never empties
    const scheduler = new RequestScheduler((r) => {
      started.push(new WeakRef(r));
      if (admitted < 400) {
        scheduler.admit(req(), {} as http.ServerResponse);
        scheduler.admit(req(), {} as http.ServerResponse);
      }
    }, 2);
    scheduler.admit(req(), {} as http.ServerResponse);
    while (started.length < 100) await new Promise((resolve) => setImmediate(resolve));
    expect(scheduler.waiting).toBeGreaterThan(0);
    gc();
    // the hundred answered requests are garbage, though the queue that held them is still in use
    expect(started.filter((ref) => ref.deref() !== undefined).length).toBeLessThan(5);
  });
});
