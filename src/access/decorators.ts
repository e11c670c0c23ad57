import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Type } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Bearer } from './bearer';
import type { Credential } from './credentials';

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

export const ACCOUNT_LOCATOR = 'shipgate:account-locator';

/** The account a request is bound to, as the guard resolved it (the Account row; typed by what callers read). */
export interface AccountRef {
  readonly id: string;
  /** The API version of its requests that send no Keygen-Version header. */
  readonly apiVersion?: string;
}

/** Finds the account of a request whose URL has no `:account` (null: none, answered as a rejected credential). */
export interface AccountLocator {
  locate(req: Request): Promise<AccountRef | null>;
  /**
   * The product the request names when its account is that product's, read from the URL alone (no
   * lookup), so that memory can find the account (the fast path); undefined: use locate.
   */
  productOf?(req: Request): string | undefined;
}

/** The routes' account comes from this provider (looked up in the app) instead of `:account`. */
export const AccountFrom = (locator: Type<AccountLocator>) => SetMetadata(ACCOUNT_LOCATOR, locator);

export const KEY_AS_BEARER = 'shipgate:key-as-bearer';

/**
 * On this route a Bearer credential that is not a token Shipgate issued is read as a license key
 * (npm sends whatever `_authToken` holds as `Authorization: Bearer`). Other routes never do this.
 */
export const LicenseKeyAsBearer = () => SetMetadata(KEY_AS_BEARER, true);

export const NOT_RATE_LIMITED = 'shipgate:not-rate-limited';

/** The route is outside the rate limits (signed download URLs, health checks). */
export const NotRateLimited = () => SetMetadata(NOT_RATE_LIMITED, true);

/**
 * What authentication reports about a request's credential, to whoever asked before it ran (the
 * rate-limit guard, which runs first): each may refuse the request (429) by rejecting.
 */
export interface CredentialReport {
  /** A credential was sent and is not valid (before the 401 is answered). */
  rejected(): Promise<void>;
  /** The caller is known (an anonymous caller too). */
  admitted(bearer: Bearer): Promise<void>;
}

export interface AuthenticatedRequest {
  bearer: Bearer;
  account?: AccountRef;
  /** Set by the rate-limit guard when the limits apply to this request. */
  credentialReport?: CredentialReport;
  /** The request's credential, as the first guard read it (extractCredential). */
  credential?: Credential;
}

/**
 * The request of a hot route (`@Req() req: CallerRequest`, then `req.bearer` and `req.account`):
 * a custom parameter decorator such as CurrentBearer costs an execution context per request.
 */
export type CallerRequest = Request & AuthenticatedRequest;

export const CurrentBearer = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Bearer => ctx.switchToHttp().getRequest<AuthenticatedRequest>().bearer,
);

/** The account named by `:account` (resolved by id or slug by the guard). */
export const CurrentAccount = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): AccountRef => ctx.switchToHttp().getRequest<AuthenticatedRequest>().account!,
);
