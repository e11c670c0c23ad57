import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import type { Account } from '../accounts/account.entity';
import type { Bearer } from './bearer';

export const IS_PUBLIC = 'shipgate:public';

/** The route answers anonymous callers too (credentials, when sent, are still checked). */
export const Public = () => applyDecorators(SetMetadata(IS_PUBLIC, true), ApiExtension('x-anonymous', true));

/** The IS_PUBLIC value of routes that check a credential of their own. */
export const OWN_CREDENTIAL = 'own-credential';

/**
 * The route is outside accounts and checks a credential of its own (`/metrics` and METRICS_TOKEN):
 * the global guard neither reads nor refuses the Authorization header. (A value of IS_PUBLIC, so
 * that the guard still makes one metadata lookup per request.)
 */
export const ChecksOwnCredential = () => SetMetadata(IS_PUBLIC, OWN_CREDENTIAL);

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
