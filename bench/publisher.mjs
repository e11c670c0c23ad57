// A vendor publishing releases: create + a small upload, and the update check right after it. The
// publishing bench runs the publisher in a thread of its own while autocannon loads the server
// from the main thread, as a vendor's build machine is not the load generator: a publish timed
// on the load generator's event loop would count that loop's own lag (fifty connections' answers
// parsed per turn) as the server's.
import { randomBytes } from 'node:crypto';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';

const JSONAPI = 'application/vnd.api+json';
const PLATFORM = 'linux/amd64';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Publishes `version` (create, then a 16-byte upload); returns { create, upload, total } in ms. */
export async function publish(base, account, token, product, version) {
  const started = performance.now();
  const created = await fetch(`${base}/v1/accounts/${account}/releases`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': JSONAPI, accept: JSONAPI },
    body: JSON.stringify({
      data: {
        type: 'releases',
        attributes: { version, channel: 'stable', platform: PLATFORM, filetype: 'tar.gz', filename: `pub-${product.slice(0, 8)}-${version}.tar.gz` },
        relationships: { product: { data: { type: 'products', id: product } } },
      },
    }),
  });
  if (created.status !== 201) throw new Error(`creating ${version}: ${created.status} ${await created.text()}`);
  const id = (await created.json()).data.id;
  const create = performance.now() - started;
  const uploadStarted = performance.now();
  const uploaded = await fetch(`${base}/v1/accounts/${account}/releases/${id}/artifact`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body: randomBytes(16) });
  if (uploaded.status !== 200) throw new Error(`uploading ${version}: ${uploaded.status} ${await uploaded.text()}`);
  await uploaded.arrayBuffer();
  const upload = performance.now() - uploadStarted;
  return { create, upload, total: performance.now() - started };
}

/** The version the update check offers from `from` (null: 204). */
export async function offered(base, product, from) {
  const res = await fetch(`${base}/v3/releases/update?productId=${product.id}&platform=${encodeURIComponent(PLATFORM)}&version=${from}&key=${product.key}`);
  if (res.status === 204) return null;
  return (await res.json()).version;
}

// the thread: publishes every `every` ms between 'start' and 'stop', then reports what it saw
if (!isMainThread && workerData?.publisher) {
  const { base, account, token, product, every } = workerData;
  let next = workerData.next;
  let publishing = null;
  parentPort.on('message', async (message) => {
    if (message === 'start') {
      const round = { publishes: [], stale: 0 };
      publishing = { stop: false, done: null };
      const state = publishing;
      state.done = (async () => {
        while (!state.stop) {
          const started = Date.now();
          const previous = `2.0.${next - 1}`;
          const version = `2.0.${next++}`;
          round.publishes.push(await publish(base, account, token, product.id, version));
          if ((await offered(base, product, previous)) !== version) round.stale++;
          await sleep(Math.max(0, every - (Date.now() - started)));
        }
        return round;
      })();
    } else if (message === 'stop') {
      publishing.stop = true;
      parentPort.postMessage(await publishing.done);
    } else if (message === 'exit') {
      process.exit(0);
    }
  });
}
