import { subscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { arrivedAt } from '../jsonapi/request-scheduler';
import type { Metrics } from './metrics';

/** The route label of a request that matched no route (404s, and errors raised before routing). */
export const UNMATCHED_ROUTE = 'unmatched';

/** Records one answered request: its status, and the milliseconds since it started. */
type Record = (req: ObservedRequest, res: Response, status: number, ms: number) => void;

/** On a request: its application's recorder (until recorded), and when it started. */
const RECORD = Symbol('shipgate.record');
const STARTED = Symbol('shipgate.started');
/**
 * On a socket: the request it is answering now (a client that leaves before the answer: 499). With
 * HTTP pipelining, only the newest of several unanswered requests is recorded then.
 */
const IN_FLIGHT = Symbol('shipgate.inFlight');

interface ObservedRequest extends Request {
  id?: string;
  account?: { id: string };
  bearer?: { kind: string };
  /** The code of the error document the request was answered with (set by the error filter). */
  errorCode?: string;
  [RECORD]?: Record | null;
  [STARTED]?: number;
}

interface ObservedSocket extends Socket {
  [IN_FLIGHT]?: ObservedRequest | null;
}

/**
 * Every application's answered requests, from Node's `http.server.response.finish` diagnostics
 * channel (one subscription per process; each request names the observer of its application).
 */
let subscribed = false;
function subscribeOnce(): void {
  if (subscribed) return;
  subscribed = true;
  subscribe('http.server.response.finish', (message) => {
    const { request, response } = message as { request: ObservedRequest; response: Response };
    const record = request[RECORD];
    if (!record) return;
    request[RECORD] = null;
    const socket = request.socket as ObservedSocket;
    if (socket[IN_FLIGHT] === request) socket[IN_FLIGHT] = null;
    record(request, response, response.statusCode, performance.now() - request[STARTED]!);
  });
}

/** A socket closed while answering: its request is recorded with status 499 (nginx's convention). */
function onSocketClose(this: ObservedSocket): void {
  const req = this[IN_FLIGHT];
  const record = req?.[RECORD];
  if (!req || !record) return;
  req[RECORD] = null;
  record(req, req.res!, 499, performance.now() - req[STARTED]!);
}

/**
 * One JSON line and one histogram observation per request, written when the response has been
 * sent; an error answer's line carries its error code (`code`). The line names the route template (`/v1/accounts/:account/releases`), never the raw URL:
 * paths and query strings can carry license keys, tokens and URL signatures.
 *
 * Written by hand rather than with pino-http, which builds two child loggers and registers three
 * listeners per request. Here a request costs two property writes: the answer is seen on Node's
 * diagnostics channel, and a client that goes away early by one listener per connection.
 */
export function requestObserver(logger: Logger, metrics: Metrics): (req: Request, res: Response) => void {
  subscribeOnce();
  const logs = logger.isLevelEnabled('info');
  const record: Record = (req, res, status, ms) => {
    const route = (req.route as { path?: string } | undefined)?.path ?? UNMATCHED_ROUTE;
    metrics.observeRequest(req.method, route, status, ms / 1000);
    if (logs) {
      logger.info(
        {
          reqId: req.id,
          method: req.method,
          route,
          status,
          ms: Math.round(ms * 100) / 100,
          account: req.account?.id ?? null,
          caller: req.bearer?.kind ?? null,
          ...(req.errorCode ? { code: req.errorCode } : {}),
        },
        'request',
      );
    }
  };
  return function observeRequest(req: ObservedRequest): void {
    // a read's time includes its wait in the read queue
    req[STARTED] = arrivedAt(req) ?? performance.now();
    req[RECORD] = record;
    const socket = req.socket as ObservedSocket;
    if (socket[IN_FLIGHT] === undefined) socket.on('close', onSocketClose);
    socket[IN_FLIGHT] = req;
  };
}
