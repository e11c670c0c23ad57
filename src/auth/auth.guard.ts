import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import passport from 'passport';
import { ApiError, ErrorCode } from '../jsonapi/errors';
import { AuthService } from './auth.service';
import { BearerStrategy } from './bearer.strategy';
import type { Bearer } from './bearer';
import { extractCredential } from './credentials';
import { AuthenticatedRequest, IS_PUBLIC, NOT_RATE_LIMITED } from './decorators';
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

/**
 * The one global guard, closed by default: resolves `:account`, reads the credential (Bearer,
 * License, ?key=, ?auth=, ?token=) and stores the Bearer on the request. `@Public()` routes
 * also admit anonymous callers; a credential that is sent must still be valid.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
    private readonly bearerStrategy: BearerStrategy,
    private readonly limits: RateLimitsService,
  ) {}

  /**
   * Also applies the rate limits (API §10): an anonymous request counts against its IP, a valid
   * credential against itself, a failing one against its IP (stricter); an address out of failed
   * checks is refused before its credential is even looked at.
   */
  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request & AuthenticatedRequest>();
    const res = http.getResponse<Response>();
    const targets = [context.getHandler(), context.getClass()];
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets);
    const limited = this.limits.enabled && !this.reflector.getAllAndOverride<boolean>(NOT_RATE_LIMITED, targets);
    const accountParam = req.params?.account as string | undefined;
    if (accountParam) req.account = await this.auth.resolveAccount(accountParam);
    const credential = extractCredential(req);
    const presented = credential.kind !== 'none' && credential.kind !== 'basic';
    if (limited && presented) await this.limits.assertCredentialChecksAllowed(req);
    let bearer: Bearer;
    try {
      bearer = await this.authenticate(req, res, credential);
    } catch (error) {
      if (limited && presented && error instanceof ApiError && error.status === 401) await this.limits.failedCredential(req, res);
      throw error;
    }
    req.bearer = bearer;
    if (bearer.kind === 'anonymous') {
      if (limited) await this.limits.anonymousRequest(req, res);
      if (!isPublic) throw ApiError.tokenMissing();
      return true;
    }
    // an authenticated answer is the caller's own: no shared cache may keep it
    res.setHeader('Cache-Control', 'no-store');
    if (limited) await this.limits.credentialRequest(credentialId(bearer), res);
    return true;
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
