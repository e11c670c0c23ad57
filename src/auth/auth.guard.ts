import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Type } from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import passport from 'passport';
import { ApiError, ErrorCode } from '../jsonapi/errors';
import { AuthService } from './auth.service';
import { BearerStrategy } from './bearer.strategy';
import type { Bearer } from './bearer';
import { extractCredential } from './credentials';
import type { Credential } from './credentials';
import { ACCOUNT_LOCATOR, IS_PUBLIC, OWN_CREDENTIAL } from './decorators';
import type { AccountLocator, AuthenticatedRequest } from './decorators';

/**
 * Runs this app's passport-http-bearer strategy (not the name registered on passport's process-wide
 * singleton, which the last app created in the process would own). Passport keeps a request's
 * success/fail callbacks on the strategy object it is given, so each request gets its own
 * Object.create() of it, as passport itself does for named strategies: sharing one would let
 * concurrent requests overwrite each other's callbacks and hang.
 */
function viaPassport(strategy: BearerStrategy, req: Request, res: Response): Promise<Bearer> {
  return new Promise((resolve, reject) => {
    passport.authenticate(Object.create(strategy) as string, { session: false }, (err: unknown, bearer: Bearer | false) => {
      if (err) return reject(err);
      if (!bearer) return reject(new ApiError(401, ErrorCode.TOKEN_INVALID, 'The token is invalid', { header: 'Authorization' }));
      resolve(bearer);
    })(req, res, (err: unknown) => reject(err));
  });
}

/** What the guard needs to know of a route (read from its metadata once). */
interface RouteAuth {
  isPublic: boolean;
  /** The route checks a credential of its own (`@ChecksOwnCredential()`): the guard stays out. */
  ownCredential: boolean;
  locator?: AccountLocator;
}

/**
 * The one global guard, closed by default: resolves `:account` (or asks the route's
 * `@AccountFrom()` locator), reads the credential (Bearer, License, ?key=, ?auth=, ?token=) and
 * stores the Bearer on the request. `@Public()` routes also admit anonymous callers; a credential
 * that is sent must still be valid.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly routes = new WeakMap<object, RouteAuth>();

  constructor(
    private readonly reflector: Reflector,
    private readonly moduleRef: ModuleRef,
    private readonly auth: AuthService,
    private readonly bearerStrategy: BearerStrategy,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request & AuthenticatedRequest>();
    const route = this.route(context);
    if (route.ownCredential) return true;
    const credential = extractCredential(req);
    // the hot path (update checks, downloads): everything warm in memory, answered without a promise
    const warm = this.authenticateNow(req, route, credential);
    if (warm) return this.admit(req, route, warm);
    return this.activate(req, http.getResponse<Response>(), route, credential);
  }

  private async activate(req: Request & AuthenticatedRequest, res: Response, route: RouteAuth, credential: Credential): Promise<boolean> {
    const accountParam = req.params?.account as string | undefined;
    if (accountParam) {
      req.account = await this.auth.resolveAccount(accountParam);
    } else if (route.locator) {
      const account = await route.locator.locate(req);
      if (!account) throw rejectedCredential(credential);
      req.account = account;
    }
    return this.admit(req, route, await this.authenticate(req, res, credential));
  }

  private admit(req: Request & AuthenticatedRequest, route: RouteAuth, bearer: Bearer): boolean {
    req.bearer = bearer;
    if (bearer.kind === 'anonymous' && !route.isPublic) throw ApiError.tokenMissing();
    return true;
  }

  /**
   * The Bearer when the account and the credential are known from memory alone (a license key or
   * no credential), else undefined: `activate` does the full work (and raises the errors).
   */
  private authenticateNow(req: Request & AuthenticatedRequest, route: RouteAuth, credential: Credential): Bearer | undefined {
    if (credential.kind !== 'license' && credential.kind !== 'none') return undefined;
    const accountParam = req.params?.account as string | undefined;
    const account = accountParam ? this.auth.accountNow(accountParam) : route.locator?.locateNow?.(req);
    if (!account) return undefined;
    req.account = account;
    if (credential.kind === 'none') return { kind: 'anonymous', accountId: account.id };
    return this.auth.authenticateLicenseNow(account, credential.key);
  }

  private route(context: ExecutionContext): RouteAuth {
    const handler = context.getHandler();
    let route = this.routes.get(handler);
    if (!route) {
      const targets = [handler, context.getClass()];
      const locator = this.reflector.getAllAndOverride<Type<AccountLocator> | undefined>(ACCOUNT_LOCATOR, targets);
      const isPublic = this.reflector.getAllAndOverride<boolean | typeof OWN_CREDENTIAL>(IS_PUBLIC, targets);
      route = {
        isPublic: isPublic === true,
        ownCredential: isPublic === OWN_CREDENTIAL,
        locator: locator ? this.moduleRef.get(locator, { strict: false }) : undefined,
      };
      this.routes.set(handler, route);
    }
    return route;
  }

  async authenticate(req: Request & AuthenticatedRequest, res: Response, credential = extractCredential(req)): Promise<Bearer> {
    switch (credential.kind) {
      case 'none':
      case 'basic': // only POST /tokens reads Basic credentials, itself
        return { kind: 'anonymous', accountId: req.account?.id ?? null };
      case 'malformed':
        throw new ApiError(401, ErrorCode.TOKEN_INVALID, 'The Authorization header is malformed', { header: 'Authorization' });
      case 'license':
        return this.auth.authenticateLicense(req.account, credential.key);
      case 'token':
        // ?token= and ?auth=token: reach passport-http-bearer the same way as the header does
        req.headers.authorization = `Bearer ${credential.secret}`;
        return viaPassport(this.bearerStrategy, req, res);
    }
  }
}

/** The 401 a credential gets where it cannot be valid (the route's account is unknown). */
export function rejectedCredential(credential: Credential): ApiError {
  switch (credential.kind) {
    case 'none':
    case 'basic':
      return ApiError.tokenMissing();
    case 'license':
      return new ApiError(401, ErrorCode.LICENSE_INVALID, 'The license key is invalid');
    default:
      return new ApiError(401, ErrorCode.TOKEN_INVALID, 'The token is invalid, revoked or expired', { header: 'Authorization' });
  }
}
