import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { RequestScheduler } from './request-scheduler';

/** Limits and hardening: request headers must arrive within 10 s; idle keep-alive connections close after 5 s. */
export const HEADERS_TIMEOUT_MS = 10_000;
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;

/**
 * Nest's express adapter with Node's server built for the documented timeouts. The whole-request
 * timeout stays off (an upload of gigabytes may take hours; it has its own idle timeout, and JSON
 * bodies their own 30 s limit in the JSON:API edge); Node checks the header deadline every
 * second instead of every 30. Reads wait their turn behind writes (RequestScheduler). Requests
 * and responses are born with express's prototypes (expressPrototypes).
 */
export class ShipgateExpressAdapter extends ExpressAdapter {
  initHttpServer(options: NestApplicationOptions): void {
    if (options?.httpsOptions || options?.forceCloseConnections || options?.return503OnClosing) {
      super.initHttpServer(options);
    } else {
      const server = http.createServer(
        {
          headersTimeout: HEADERS_TIMEOUT_MS,
          requestTimeout: 0,
          keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
          connectionsCheckingInterval: 1000,
          ...expressPrototypes(this.getInstance<ExpressApp>()),
        },
        new RequestScheduler(this.getInstance()).admit,
      );
      this.setHttpServer(server);
    }
    (this.getHttpServer() as http.Server).on('connect', refuseConnect);
  }
}

/** What expressPrototypes reads of an express application: the prototypes it gives requests and responses. */
interface ExpressApp {
  request: object;
  response: object;
}

/**
 * Node's request and response classes, made so that what they construct already has the
 * prototypes express gives each request it handles (`app.request`, `app.response`). Express
 * calls Object.setPrototypeOf on every request and response; on an object born with another
 * prototype, V8 then rebuilds the object's shape, and what hangs off it lives long enough to
 * reach the old generation (measured with express alone: a third of the throughput, and 7 KB
 * per request promoted, so a full collection every few seconds). With the prototype already in
 * place, that call changes nothing.
 */
export function expressPrototypes(app: ExpressApp): { IncomingMessage: typeof http.IncomingMessage; ServerResponse: typeof http.ServerResponse } {
  return { IncomingMessage: bornWith(http.IncomingMessage, app.request), ServerResponse: bornWith(http.ServerResponse, app.response) };
}

/** A constructor that builds what `base` builds, with `prototype` as its prototype (which must inherit from base's). */
function bornWith<C extends abstract new (...args: never[]) => object>(base: C, prototype: object): C {
  function Born(...args: unknown[]): object {
    return Reflect.construct(base, args, Born);
  }
  Born.prototype = prototype;
  return Born as unknown as C;
}

/**
 * CONNECT never reaches express (Node hands it to 'connect' listeners, and without one closes the
 * socket unanswered): this is no proxy, so it is 405 with an error document, then the connection closes.
 */
export function refuseConnect(req: http.IncomingMessage, socket: Duplex): void {
  const body = JSON.stringify({
    errors: [{ status: '405', code: 'METHOD_NOT_ALLOWED', title: 'Method not allowed', detail: 'CONNECT is not allowed: this server is not a proxy' }],
  });
  socket.on('error', () => socket.destroy());
  socket.end(
    'HTTP/1.1 405 Method Not Allowed\r\n' +
      'Content-Type: application/vnd.api+json\r\n' +
      'Allow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\n' +
      'X-Content-Type-Options: nosniff\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
