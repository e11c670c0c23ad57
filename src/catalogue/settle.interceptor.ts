import { CallHandler, ExecutionContext, Injectable, NestInterceptor, UseInterceptors } from '@nestjs/common';
import type { Request } from 'express';
import { catchError, concatMap, from, Observable } from 'rxjs';
import { CatalogueListener } from './catalogue-listener';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A write (any method but GET/HEAD/OPTIONS) answers only after its committed changes have reached
 * the catalogue of every instance (CatalogueListener.settle), so that a client reading right after
 * its own write never sees the old state, whichever instance answers the read.
 * Applied with @SettlesCatalogue() to the controllers that write, not globally: the hot read
 * routes do not pay for it.
 */
@Injectable()
export class CatalogueSettleInterceptor implements NestInterceptor {
  constructor(private readonly listener: CatalogueListener) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const method = context.switchToHttp().getRequest<Request>().method;
    if (READS.has(method)) return next.handle();
    return next.handle().pipe(
      concatMap((value) => from(this.listener.settle().then(() => value))),
      catchError((error: unknown) =>
        from(
          this.listener.settle().then(() => {
            throw error;
          }),
        ),
      ),
    );
  }
}

/** For controllers (or handlers) that change what the catalogue holds. */
export const SettlesCatalogue = () => UseInterceptors(CatalogueSettleInterceptor);
