import { CallHandler, ExecutionContext, Injectable, NestInterceptor, UseInterceptors } from '@nestjs/common';
import type { Request } from 'express';
import { catchError, concatMap, from, Observable } from 'rxjs';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * What a write waits for before it answers: every change committed so far has reached what every
 * instance keeps in memory. Declared here, below the domain, so that the controllers that write can
 * ask for it; the catalogue provides it (CatalogueListener.settle).
 */
export abstract class CommittedChanges {
  abstract settle(): Promise<void>;
}

/**
 * A write (any method but GET/HEAD/OPTIONS) answers only after its committed changes have reached
 * the catalogue of every instance (CommittedChanges.settle), so that a client reading right after
 * its own write never sees the old state, whichever instance answers the read.
 * Applied with @SettlesCatalogue() to the controllers that write, not globally: the hot read
 * routes do not pay for it.
 */
@Injectable()
export class CatalogueSettleInterceptor implements NestInterceptor {
  constructor(private readonly changes: CommittedChanges) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const method = context.switchToHttp().getRequest<Request>().method;
    if (READS.has(method)) return next.handle();
    return next.handle().pipe(
      concatMap((value) => from(this.changes.settle().then(() => value))),
      catchError((error: unknown) =>
        from(
          this.changes.settle().then(() => {
            throw error;
          }),
        ),
      ),
    );
  }
}

/** For controllers (or handlers) that change what the catalogue holds. */
export const SettlesCatalogue = () => UseInterceptors(CatalogueSettleInterceptor);
