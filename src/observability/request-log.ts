import { performance } from 'node:perf_hooks';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import type { Metrics } from './metrics';

/** The route label of a request that matched no route (404s, and errors raised before routing). */
export const UNMATCHED_ROUTE = 'unmatched';

interface ObservedRequest extends Request {
  id?: string;
  account?: { id: string };
  bearer?: { kind: string };
}

/**
 * One JSON line and one histogram observation per request, written when the response has been
 * sent. The line names the route template (`/v1/accounts/:account/releases`), never the raw URL:
 * paths and query strings can carry license keys, tokens and URL signatures.
 *
 * Written by hand rather than with pino-http, which builds two child loggers and registers three
 * listeners per request; on the update-check path one closure and one listener is the budget.
 */
export function requestObserver(logger: Logger, metrics: Metrics): (req: Request, res: Response) => void {
  const logs = logger.isLevelEnabled('info');
  return function observeRequest(req: ObservedRequest, res: Response): void {
    const start = performance.now();
    // a response closes once: `on` spares the wrapper `once` would add
    res.on('close', () => {
      const ms = performance.now() - start;
      const route = req.route?.path ?? UNMATCHED_ROUTE;
      // a client that went away before the answer was sent: logged with status 499 (nginx's convention)
      const status = res.writableFinished ? res.statusCode : 499;
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
          },
          'request',
        );
      }
    });
  };
}
