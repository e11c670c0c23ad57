import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Type } from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import passport from 'passport';
import { asProbe } from '../access/bearer';
import type { Bearer } from '../access/bearer';
import { extractCredential } from '../access/credentials';
import type { Credential } from '../access/credentials';
import { ACCOUNT_LOCATOR, IS_PUBLIC, KEY_AS_BEARER, OWN_CREDENTIAL } from '../access/decorators';
import { isIssuedTokenShape } from '../access/secrets';
import type { AccountLocator, AuthenticatedRequest } from '../access/decorators';
import { ApiError, ErrorCode } from '../jsonapi/errors';
import { AuthService } from './auth.service';
import { CallerFastPath } from './caller.fast-path';
import { NOT_WARM } from '../common/not-warm';
import { settleApiVersion } from '../jsonapi/api-version';
import { BearerStrategy } from './bearer.strategy';

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
  /** `@LicenseKeyAsBearer()`: a Bearer secret that is no issued token is a license key (npm's engine). */
  keyAsBearer: boolean;
  locator?: AccountLocator;
}

/**
 * The global authentication guard, closed by default: resolves `:account` (or asks the route's
 * `@AccountFrom()` locator), reads the credential (Bearer, License, ?key=, ?auth=, ?token=) and
 * stores the Bearer on the request. `@Public()` routes also admit anonymous callers; a credential
 * that is sent must still be valid. Accounts and license keys come from the catalogue (memory when
 * it holds them). What became of the credential is reported to the rate-limit guard, which runs
 * first (req.credentialReport).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly routes = new WeakMap<object, RouteAuth>();

  constructor(
    private readonly reflector: Reflector,
    private readonly moduleRef: ModuleRef,
    private readonly auth: AuthService,
    private readonly bearerStrategy: BearerStrategy,
    private readonly fast: CallerFastPath,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // by index: switchToHttp() would add three closures to the context on every request
    const req = context.getArgByIndex<Request & AuthenticatedRequest>(0);
    const res = context.getArgByIndex<Response>(1);
    const route = this.route(context);
    if (route.ownCredential) return true;
    let credential = req.credential ?? extractCredential(req);
    if (route.keyAsBearer && credential.kind === 'token' && !isIssuedTokenShape(credential.secret)) credential = { kind: 'license', key: credential.secret };
    // a license key or no credential, with the account and the key in memory: no lookup to await
    const accountParam = req.params?.account as string | undefined;
    const product = accountParam === undefined ? route.locator?.productOf?.(req) : undefined;
    const warm = accountParam !== undefined ? this.fast.caller({ account: accountParam }, credential) : product !== undefined ? this.fast.caller({ product }, credential) : NOT_WARM;
    let bearer: Bearer;
    if (warm !== NOT_WARM) {
      req.account = warm.account;
      bearer = warm.bearer;
    } else {
      await this.resolveAccount(req, route, credential);
      bearer = await this.identify(req, res, credential);
    }
    settleApiVersion(req, res, req.account?.apiVersion);
    // a HEAD is answered like its GET but counts nothing (a link checker is no download)
    req.bearer = req.method === 'HEAD' ? asProbe(bearer) : bearer;
    await req.credentialReport?.admitted(bearer);
    if (bearer.kind === 'anonymous') {
      if (!route.isPublic) throw ApiError.tokenMissing();
    } else {
      // an authenticated answer is the caller's own: no shared cache may keep it
      res.setHeader('Cache-Control', 'no-store');
    }
    return true;
  }

  /** req.account, from `:account` or the route's locator. */
  private async resolveAccount(req: Request & AuthenticatedRequest, route: RouteAuth, credential: Credential): Promise<void> {
    const accountParam = req.params?.account as string | undefined;
    if (accountParam) {
      req.account = await this.auth.resolveAccount(accountParam);
      return;
    }
    if (!route.locator) return;
    const account = await route.locator.locate(req);
    if (account) {
      req.account = account;
      return;
    }
    // a key or token for no known product is a failed credential check like any other
    if (presented(credential)) await req.credentialReport?.rejected();
    throw rejectedCredential(credential);
  }

  /** The caller; a failed credential is reported (it counts against the address) before its 401. */
  private async identify(req: Request & AuthenticatedRequest, res: Response, credential: Credential): Promise<Bearer> {
    if (credential.kind === 'none') return { kind: 'anonymous', accountId: req.account?.id ?? null };
    try {
      return await this.authenticate(req, res, credential);
    } catch (error) {
      if (presented(credential) && error instanceof ApiError && error.status === 401) await req.credentialReport?.rejected();
      if (credential.kind === 'token') await this.licenseKeyHint(req.account, credential.secret, error);
      throw error;
    }
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
        keyAsBearer: this.reflector.getAllAndOverride<boolean>(KEY_AS_BEARER, targets) === true,
        locator: locator ? this.moduleRef.get(locator, { strict: false }) : undefined,
      };
      this.routes.set(handler, route);
    }
    return route;
  }

  /** A failed token that is in fact a license key of the account: the 401 says how to send a key. */
  private async licenseKeyHint(account: AuthenticatedRequest['account'], secret: string, error: unknown): Promise<void> {
    if (account && error instanceof ApiError && error.status === 401 && (await this.auth.isLicenseKey(account, secret))) {
      throw new ApiError(401, ErrorCode.TOKEN_INVALID, 'This is a license key, not a token: send it as `Authorization: License <key>`', { header: 'Authorization' });
    }
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

/** A credential was sent (not none, not Basic, which only POST /tokens reads). */
export function presented(credential: Credential): boolean {
  return credential.kind !== 'none' && credential.kind !== 'basic';
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
