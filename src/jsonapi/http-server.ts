import * as http from 'node:http';
import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';

/** Limits and hardening: request headers must arrive within 10 s; idle keep-alive connections close after 5 s. */
export const HEADERS_TIMEOUT_MS = 10_000;
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;

/**
 * Nest's express adapter with Node's server built for the documented timeouts. The whole-request
 * timeout stays off (an upload of gigabytes may take hours; it has its own idle timeout, and JSON
 * bodies their own 30 s limit in the JSON:API edge); Node checks the header deadline every
 * second instead of every 30.
 */
export class ShipgateExpressAdapter extends ExpressAdapter {
  initHttpServer(options: NestApplicationOptions): void {
    if (options?.httpsOptions || options?.forceCloseConnections || options?.return503OnClosing) return super.initHttpServer(options);
    const server = http.createServer(
      { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: 0, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS, connectionsCheckingInterval: 1000 },
      this.getInstance(),
    );
    this.setHttpServer(server);
  }
}
