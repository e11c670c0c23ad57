import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * TLS on port 443 in front of an app under test, for clients that only speak https to a bare
 * hostname (electron-builder's Keygen publisher and electron-updater's Keygen provider address
 * `https://<host>/...` and the upload URL's hostname, never a port).
 *
 * The certificate is made at test time for `localhost` and 127.0.0.1 and trusted by the clients'
 * child processes through `NODE_EXTRA_CA_CERTS` (see child-runner.ts).
 */

export interface TestCertificate {
  dir: string;
  /** PEM certificate (self-signed, CA:TRUE): the file to give `NODE_EXTRA_CA_CERTS`. */
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
  remove(): void;
}

/** A fresh self-signed certificate for `localhost`, `127.0.0.1` and `::1`, in a temporary directory. */
export function makeTestCertificate(): TestCertificate {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-tls-'));
  const certFile = path.join(dir, 'localhost.crt');
  const keyFile = path.join(dir, 'localhost.key');
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
        '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not make the test certificate with the openssl CLI (is openssl installed?): ${(e as Error).message}`);
  }
  return {
    dir,
    certFile,
    keyFile,
    cert: fs.readFileSync(certFile),
    key: fs.readFileSync(keyFile),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** One request that passed through the front, as the client sent it and as the app answered it. */
export interface RecordedRequest {
  method: string;
  /** Path and query, as sent (a license key in `?key=` shortened to `<redacted>`). */
  url: string;
  /** Request headers as the client sent them (lowercase names; Authorization shortened to its scheme). */
  headers: Record<string, string>;
  /** Bytes of the request body. */
  bodyBytes: number;
  /** The body as text when it is JSON (first 4 KiB). */
  body?: string;
  status?: number;
  responseHeaders?: Record<string, string>;
  /** The answer as text when it is JSON or YAML (first 4 KiB). */
  responseBody?: string;
}

export interface TlsFront {
  /** `https://localhost` (the port is 443). */
  url: string;
  /** Every request, in the order they arrived. */
  requests: RecordedRequest[];
  close(): Promise<void>;
}

const TEXT_LIMIT = 4096;

function flatHeaders(h: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

/** Keeps only the scheme of a credential, so a trace can be printed without secrets. */
function redact(headers: Record<string, string>): Record<string, string> {
  const out = { ...headers };
  if (out.authorization) out.authorization = `${out.authorization.split(' ')[0]} <redacted>`;
  return out;
}

function isText(contentType: string | undefined): boolean {
  return !!contentType && /json|yaml|text\//.test(contentType);
}

/** Binds `port` on 127.0.0.1 and ::1, waiting up to `waitMs` for another test file to let it go. */
async function listenOn(servers: https.Server[], port: number, waitMs: number): Promise<void> {
  const hosts = ['127.0.0.1', '::1'];
  const deadline = Date.now() + waitMs;
  for (let i = 0; i < servers.length; i++) {
    for (;;) {
      const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
        const s = servers[i];
        const onError = (e: NodeJS.ErrnoException) => resolve(e);
        s.once('error', onError);
        s.listen(port, hosts[i], () => {
          s.off('error', onError);
          resolve(null);
        });
      });
      if (!err) break;
      // a machine without IPv6 on loopback: IPv4 alone is enough
      if (hosts[i] === '::1' && (err.code === 'EADDRNOTAVAIL' || err.code === 'EAFNOSUPPORT')) break;
      if (err.code === 'EADDRINUSE' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      await Promise.all(servers.map((s) => new Promise((r) => (s.listening ? s.close(r) : r(null)))));
      throw new Error(
        `the TLS front could not bind ${hosts[i]}:${port} (${err.code}): ` +
          (err.code === 'EACCES'
            ? 'binding port 443 needs root (or CAP_NET_BIND_SERVICE)'
            : 'another process (or another test file) holds it; only one test file may use port 443 at a time'),
      );
    }
  }
}

/**
 * An https server on `port` (443 by default) that passes every request to the app's plain HTTP
 * port unchanged (Host kept, X-Forwarded-Proto/-Host/-For added) and records it.
 * Fails loudly when the port cannot be bound within `waitMs`.
 */
export async function startTlsFront(options: {
  target: number;
  certificate: TestCertificate;
  port?: number;
  waitMs?: number;
}): Promise<TlsFront> {
  const port = options.port ?? 443;
  const requests: RecordedRequest[] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const headers = flatHeaders(req.headers);
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      url: (req.url ?? '/').replace(/([?&]key=)[^&]*/, '$1<redacted>'),
      headers: redact(headers),
      bodyBytes: 0,
    };
    requests.push(record);
    const requestText: Buffer[] = [];
    let requestTextBytes = 0;
    const keepRequestText = isText(headers['content-type']);
    req.on('data', (chunk: Buffer) => {
      record.bodyBytes += chunk.length;
      if (keepRequestText && requestTextBytes < TEXT_LIMIT) {
        requestText.push(chunk);
        requestTextBytes += chunk.length;
      }
    });
    req.on('end', () => {
      if (keepRequestText) record.body = Buffer.concat(requestText).subarray(0, TEXT_LIMIT).toString('utf8');
    });
    const upstream = http.request(
      {
        host: '127.0.0.1',
        port: options.target,
        method: req.method,
        path: req.url,
        headers: {
          ...req.headers,
          'x-forwarded-proto': 'https',
          'x-forwarded-host': req.headers.host ?? 'localhost',
          'x-forwarded-for': req.socket.remoteAddress ?? '127.0.0.1',
        },
      },
      (answer) => {
        record.status = answer.statusCode;
        record.responseHeaders = flatHeaders(answer.headers);
        const keep = isText(answer.headers['content-type']);
        const text: Buffer[] = [];
        let textBytes = 0;
        answer.on('data', (chunk: Buffer) => {
          if (keep && textBytes < TEXT_LIMIT) {
            text.push(chunk);
            textBytes += chunk.length;
          }
        });
        answer.on('end', () => {
          if (keep) record.responseBody = Buffer.concat(text).subarray(0, TEXT_LIMIT).toString('utf8');
        });
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    upstream.on('error', (e) => {
      record.status = 502;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`TLS front: the app did not answer: ${e.message}`);
    });
    req.pipe(upstream);
  };
  const servers = [0, 1].map(() => https.createServer({ cert: options.certificate.cert, key: options.certificate.key }, handler));
  await listenOn(servers, port, options.waitMs ?? 30_000);
  return {
    url: port === 443 ? 'https://localhost' : `https://localhost:${port}`,
    requests,
    close: async () => {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              if (!s.listening) return resolve();
              s.closeAllConnections();
              s.close(() => resolve());
            }),
        ),
      );
    },
  };
}
