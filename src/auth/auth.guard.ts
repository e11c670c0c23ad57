import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Type } from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import passport from 'passport';
import { ApiError, ErrorCode } from '../jsonapi/errors';
import { AuthService } from './auth.service';
import { BearerStrategy } from './bearer.strategy';
import { asProbe } from '../access/bearer';
import type { Bearer } from '../access/bearer';
import { extractCredential } from '../access/credentials';
import type { Credential } from '../access/credentials';
import { ACCOUNT_LOCATOR, IS_PUBLIC, NOT_RATE_LIMITED, OWN_CREDENTIAL } from '../access/decorators';
import type { AccountLocator, AuthenticatedRequest } from '../access/decorators';
import { RateLimitsService } from '../ratelimit/rate-limits.service';

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
  /** Outside the rate limits (`@NotRateLimited()`: signed download URLs, health checks). */
  unlimited: boolean;
  locator?: AccountLocator;
}

/**
 * The one global guard, closed by default: resolves `:account` (or asks the route's
 * `@AccountFrom()` locator), reads the credential (Bearer, License, ?key=, ?auth=, ?token=) and
 * stores the Bearer on the request. `@Public()` routes also admit anonymous callers; a credential
 * that is sent must still be valid.
 *
 * Also applies the rate limits (docs/operations.md, "Limits and hardening"): an anonymous request counts against its IP, a valid
 * credential against itself, a failing one against its IP (stricter); an address out of failed
 * checks is refused before its credential is even looked at.
 *
 * On the hot path (an update check with a license key) the account and the license come from
 * memory synchronously; only the limiter's own calls are awaited.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly routes = new WeakMap<object, RouteAuth>();

  constructor(
    private readonly reflector: Reflector,
    private readonly moduleRef: ModuleRef,
    private readonly auth: AuthService,
    private readonly bearerStrategy: BearerStrategy,
    private readonly limits: RateLimitsService,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    // by index: switchToHttp() would add three closures to the context on every request
    const req = context.getArgByIndex<Request & AuthenticatedRequest>(0);
    const res = context.getArgByIndex<Response>(1);
    const route = this.route(context);
    if (route.ownCredential) return true;
    const credential = extractCredential(req);
    const check: Check = { req, res, route, credential, limited: this.limits.enabled && !route.unlimited, presented: credential.kind !== 'none' && credential.kind !== 'basic' };
    // each step is synchronous when memory answers it; a promise only continues where one is met
    const account = this.resolveAccount(check);
    return account ? account.then(() => this.checkCredential(check)) : this.checkCredential(check);
  }

  /** After the account: an address out of failed checks is refused, then the credential is checked. */
  private checkCredential(check: Check): boolean | Promise<boolean> {
    const allowed = check.limited && check.presented ? this.limits.assertCredentialChecksAllowed(check.req) : undefined;
    if (allowed) return allowed.then(() => this.identify(check));
    return this.identify(check);
  }

  private identify(check: Check): boolean | Promise<boolean> {
    const bearer = this.bearer(check);
    return bearer instanceof Promise ? bearer.then((b) => this.admit(check, b)) : this.admit(check, bearer);
  }

  /** req.account, from `:account` or the route's locator (synchronously when memory holds it). */
  private resolveAccount({ req, res, route, credential, limited, presented }: Check): void | Promise<void> {
    const accountParam = req.params?.account as string | undefined;
    if (accountParam) {
      const warm = this.auth.accountNow(accountParam);
      if (warm) {
        req.account = warm;
        return;
      }
      return this.auth.resolveAccount(accountParam).then((account) => {
        req.account = account;
      });
    }
    if (!route.locator) return;
    const warm = route.locator.locateNow?.(req);
    if (warm) {
      req.account = warm;
      return;
    }
    return route.locator.locate(req).then(async (account) => {
      if (account) {
        req.account = account;
        return;
      }
      if (limited && presented) {
        // a key or token for no known product is a failed credential check like any other
        await this.limits.assertCredentialChecksAllowed(req);
        await this.limits.failedCredential(req, res);
      }
      throw rejectedCredential(credential);
    });
  }

  /** The caller; a license key known to memory needs no promise. A failed check counts against the IP. */
  private bearer({ req, res, credential, limited, presented }: Check): Bearer | Promise<Bearer> {
    if (credential.kind === 'none') return { kind: 'anonymous', accountId: req.account?.id ?? null };
    if (credential.kind === 'license' && req.account) {
      const warm = this.auth.authenticateLicenseNow(req.account, credential.key);
      if (warm) return warm;
    }
    return this.authenticate(req, res, credential).catch(async (error: unknown) => {
      if (limited && presented && error instanceof ApiError && error.status === 401) await this.limits.failedCredential(req, res);
      if (credential.kind === 'token') return this.licenseKeyHint(req.account, credential.secret, error);
      throw error;
    });
  }

  private admit({ req, res, route, limited }: Check, bearer: Bearer): boolean | Promise<boolean> {
    // a HEAD is answered like its GET but counts nothing (a link checker is no download)
    req.bearer = req.method === 'HEAD' ? asProbe(bearer) : bearer;
    if (bearer.kind === 'anonymous') {
      const admitted = () => {
        if (!route.isPublic) throw ApiError.tokenMissing();
        return true;
      };
      return limited ? this.limits.anonymousRequest(req, res).then(admitted) : admitted();
    }
    // an authenticated answer is the caller's own: no shared cache may keep it
    res.setHeader('Cache-Control', 'no-store');
    return limited ? this.limits.admitCredential(credentialId(bearer), res) : true;
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
        unlimited: this.reflector.getAllAndOverride<boolean>(NOT_RATE_LIMITED, targets) === true,
        locator: locator ? this.moduleRef.get(locator, { strict: false }) : undefined,
      };
      this.routes.set(handler, route);
    }
    return route;
  }

  /** A failed token that is in fact a license key of the account: the 401 says how to send a key. */
  private async licenseKeyHint(account: AuthenticatedRequest['account'], secret: string, error: unknown): Promise<never> {
    if (account && error instanceof ApiError && error.status === 401 && (await this.auth.isLicenseKey(account, secret))) {
      throw new ApiError(401, ErrorCode.TOKEN_INVALID, 'This is a license key, not a token: send it as `Authorization: License <key>`', { header: 'Authorization' });
    }
    throw error;
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

/** One request's authentication, as the guard's steps pass it along. */
interface Check {
  req: Request & AuthenticatedRequest;
  res: Response;
  route: RouteAuth;
  credential: Credential;
  /** The rate limits apply to this request. */
  limited: boolean;
  /** A credential was sent (not none, not Basic, which only POST /tokens reads). */
  presented: boolean;
}

/** What a credential's own rate limit is keyed by. */
function credentialId(bearer: Exclude<Bearer, { kind: 'anonymous' }>): string {
  switch (bearer.kind) {
    case 'root':
      return 'root';
    case 'license':
      return `license:${bearer.license.id}`;
    default:
      return `token:${bearer.tokenId}`;
  }
}
