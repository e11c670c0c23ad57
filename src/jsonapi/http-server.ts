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

/** What expressPrototypes changes of an express application: the prototypes it gives requests and responses. */
interface ExpressApp {
  request: object;
  response: object;
}

/**
 * Node's request and response classes, made so that what they construct already has the
 * prototypes express gives each request it handles (`app.request`, `app.response`). Express
 * calls Object.setPrototypeOf on every request and response; on an object born with another
 * prototype, V8 then rebuilds the object's shape, and what hangs off it lives long enough to
 * reach the old generation (measured with express alone: 7 KB per request promoted, so a full
 * collection every few seconds, and a fifth of the throughput of the same server with the
 * prototypes in place). Each class extends Node's, and its prototype takes the place of
 * express's (the same properties, inheriting from the same object), so express's call changes
 * nothing. A plain function with `prototype` set would do the same, but V8 sizes the objects a
 * constructor makes from the constructor's own code: Node's fields would not fit in them.
 */
export function expressPrototypes(app: ExpressApp): { IncomingMessage: typeof http.IncomingMessage; ServerResponse: typeof http.ServerResponse } {
  const IncomingMessage = class extends http.IncomingMessage {};
  const ServerResponse = class extends http.ServerResponse {};
  app.request = inPlaceOf(app.request, IncomingMessage.prototype);
  app.response = inPlaceOf(app.response, ServerResponse.prototype);
  // TypeScript's ServerResponse constructor is generic in its request type; the subclass's is not
  return { IncomingMessage, ServerResponse: ServerResponse as typeof http.ServerResponse };
}

/** `prototype`, given the own properties and the prototype of `replaced`, to stand in its place. */
function inPlaceOf(replaced: object, prototype: object): object {
  Object.setPrototypeOf(prototype, Object.getPrototypeOf(replaced));
  for (const key of Reflect.ownKeys(replaced)) Object.defineProperty(prototype, key, Object.getOwnPropertyDescriptor(replaced, key)!);
  return prototype;
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
