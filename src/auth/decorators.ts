import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Account } from '../accounts/account.entity';
import type { Bearer } from './bearer';

export const IS_PUBLIC = 'shipgate:public';

/** The route answers anonymous callers too (credentials, when sent, are still checked). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

export const NOT_RATE_LIMITED = 'shipgate:not-rate-limited';

/** The route is outside the rate limits (signed download URLs, health checks: API §10). */
export const NotRateLimited = () => SetMetadata(NOT_RATE_LIMITED, true);

export interface AuthenticatedRequest {
  bearer: Bearer;
  account?: Account;
}

export const CurrentBearer = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Bearer => ctx.switchToHttp().getRequest<AuthenticatedRequest>().bearer,
);

/** The account named by `:account` (resolved by id or slug by the guard). */
export const CurrentAccount = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Account => ctx.switchToHttp().getRequest<AuthenticatedRequest>().account!,
);
