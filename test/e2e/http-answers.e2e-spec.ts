import * as net from 'node:net';
import { startApp, TestApp } from '../support/app';
import { createProduct } from '../support/catalogue.factories';
import { createAccount, TestAccount } from '../support/factories';
import { createRelease } from '../support/release.factories';

/**
 * Every request gets an HTTP answer before its connection closes: CONNECT (405), a body over the
 * limit (413), an upload that stalls (408). Spoken over a raw socket, as a fuzzer or a proxy would.
 */
describe('every request gets an HTTP answer', () => {
  let t: TestApp;
  let account: TestAccount;
  let port: number;

  beforeAll(async () => {
    t = await startApp({ UPLOAD_IDLE_TIMEOUT_SECONDS: '1' });
    port = Number(new URL(t.baseUrl).port);
    account = await createAccount(t);
  });
  afterAll(() => t.close());

  /** Sends `parts` (a number: a pause in ms) and returns what came back before the connection closed. */
  function exchange(parts: Array<string | Buffer | number>, timeoutMs = 15_000): Promise<string> {
    return new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      const received: Buffer[] = [];
      const done = () => resolve(Buffer.concat(received).toString('latin1'));
      const timer = setTimeout(() => {
        socket.destroy();
        done();
      }, timeoutMs);
      socket.on('data', (chunk) => received.push(chunk));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearTimeout(timer);
        done();
      });
      socket.on('connect', async () => {
        for (const part of parts) {
          if (typeof part === 'number') await new Promise((r) => setTimeout(r, part));
          else if (!socket.destroyed) socket.write(part);
        }
      });
    });
  }

  const statusOf = (answer: string) => /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? `no answer (${JSON.stringify(answer.slice(0, 40))})`;
  const errorOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).errors[0];

  it('CONNECT is 405 with an error document, for an authority and for a path', async () => {
    for (const target of ['127.0.0.1:443', 'example.com:80', '/v1/accounts']) {
      const answer = await exchange([`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`]);
      expect({ target, status: statusOf(answer) }).toEqual({ target, status: '405' });
      expect(errorOf(answer)).toMatchObject({ status: '405', code: 'METHOD_NOT_ALLOWED' });
    }
  });

  it('a JSON body over the limit is 413, declared or chunked, sent whole or not', async () => {
    const path = `/v1/accounts/${account.id}/products`;
    const big = Buffer.alloc(2 * 1024 * 1024 + 10, 'a');
    const head = `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${account.adminToken}\r\nContent-Type: application/vnd.api+json\r\nAccept: application/vnd.api+json\r\n`;
    const cases: Record<string, Array<string | Buffer | number>> = {
      'declared, sent whole': [`${head}Content-Length: ${big.length}\r\n\r\n`, big],
      'declared, not sent': [`${head}Content-Length: ${big.length}\r\n\r\n`],
      'declared, sent slowly': [`${head}Content-Length: ${big.length}\r\n\r\n`, big.subarray(0, 1000), 500, big.subarray(1000, 5000)],
      chunked: [`${head}Transfer-Encoding: chunked\r\n\r\n`, `${big.length.toString(16)}\r\n`, big, '\r\n0\r\n\r\n'],
    };
    for (const [name, parts] of Object.entries(cases)) {
      const answer = await exchange(parts);
      expect({ name, status: statusOf(answer) }).toEqual({ name, status: '413' });
      expect(errorOf(answer)).toMatchObject({ status: '413', code: 'REQUEST_TOO_LARGE' });
    }
  });

  it('an upload that stalls is 408 (UPLOAD_IDLE_TIMEOUT_SECONDS), with an error document', async () => {
    const product = await createProduct(t, account);
    const release = await createRelease(t, account, product.id, { filesize: 100 });
    const answer = await exchange(
      [
        `PUT /v1/accounts/${account.id}/releases/${release.id}/artifact HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${account.adminToken}\r\nContent-Type: application/octet-stream\r\nContent-Length: 100\r\n\r\n`,
        Buffer.alloc(10, 1),
      ],
      10_000,
    );
    expect(statusOf(answer)).toBe('408');
    expect(errorOf(answer)).toMatchObject({ status: '408', code: 'REQUEST_TIMEOUT' });
  });
});
