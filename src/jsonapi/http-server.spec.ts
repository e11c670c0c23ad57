import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { expressPrototypes } from './http-server';

/** An express application on a Node server built with expressPrototypes; what the handler saw of each request. */
async function serve(): Promise<{ base: string; seen: Array<{ bornWithExpress: boolean; query: unknown; isIncoming: boolean; isResponse: boolean }>; close: () => Promise<void> }> {
  const app = express();
  const seen: Array<{ bornWithExpress: boolean; query: unknown; isIncoming: boolean; isResponse: boolean }> = [];
  const born = new WeakSet<object>();
  app.get('/things/:id', (req, res) => {
    seen.push({ bornWithExpress: born.has(req) && born.has(res), query: req.query, isIncoming: req instanceof http.IncomingMessage, isResponse: res instanceof http.ServerResponse });
    res.status(201).json({ id: req.params.id, ip: req.ip !== undefined });
  });
  const server = http.createServer(expressPrototypes(app), app);
  // before express handles them: a request and its response already have express's prototypes
  server.prependListener('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (Object.getPrototypeOf(req) === app.request) born.add(req);
    if (Object.getPrototypeOf(res) === app.response) born.add(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, seen, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('expressPrototypes', () => {
  it('builds requests and responses with the prototypes express would give them, and express works as before', async () => {
    const { base, seen, close } = await serve();
    try {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${base}/things/${i}?a=${i}`);
        expect(res.status).toBe(201);
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
        expect(await res.json()).toEqual({ id: String(i), ip: true });
      }
      const missing = await fetch(`${base}/nothing`);
      expect(missing.status).toBe(404);
      expect(seen).toEqual([0, 1, 2].map((i) => ({ bornWithExpress: true, query: { a: String(i) }, isIncoming: true, isResponse: true })));
    } finally {
      await close();
    }
  });
});
