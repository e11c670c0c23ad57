import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Type } from '@nestjs/common';
import type { Request } from 'express';
import type { Account } from '../accounts/account.entity';
import type { Bearer } from './bearer';

export const IS_PUBLIC = 'shipgate:public';

/** The route answers anonymous callers too (credentials, when sent, are still checked). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

export const ACCOUNT_LOCATOR = 'shipgate:account-locator';

/** Finds the account of a request whose URL has no `:account` (null: none, answered as a rejected credential). */
export interface AccountLocator {
  locate(req: Request): Promise<Account | null>;
  /** The account when memory alone tells it; undefined: call `locate`. */
  locateNow?(req: Request): Account | undefined;
}

/** The routes' account comes from this provider (looked up in the app) instead of `:account`. */
export const AccountFrom = (locator: Type<AccountLocator>) => SetMetadata(ACCOUNT_LOCATOR, locator);

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
