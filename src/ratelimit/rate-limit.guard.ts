import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import type { Bearer } from '../access/bearer';
import { extractCredential } from '../access/credentials';
import { IS_PUBLIC, NOT_RATE_LIMITED, OWN_CREDENTIAL } from '../access/decorators';
import type { AuthenticatedRequest, CredentialReport } from '../access/decorators';
import { RateLimitsService } from './rate-limits.service';

/**
 * The global rate-limit guard (docs/operations.md, "Limits and hardening"), run before
 * authentication: an address out of failed credential checks is refused before its credential is
 * even looked at; then, from what authentication reports (req.credentialReport), a failed
 * credential counts against the address (stricter), a valid one against itself, and a request
 * without one against its address.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  /** Per handler: whether the limits apply (`@NotRateLimited()` and own-credential routes are outside). */
  private readonly limited = new WeakMap<object, boolean>();

  constructor(
    private readonly reflector: Reflector,
    private readonly limits: RateLimitsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.limits.enabled || !this.applies(context)) return true;
    const req = context.getArgByIndex<Request & AuthenticatedRequest>(0);
    const res = context.getArgByIndex<Response>(1);
    const credential = (req.credential = extractCredential(req));
    const presented = credential.kind !== 'none' && credential.kind !== 'basic';
    if (presented && this.limits.mayHaveFailed(req)) await this.limits.assertCredentialChecksAllowed(req);
    req.credentialReport = this.report(req, res);
    return true;
  }

  private report(req: Request, res: Response): CredentialReport {
    const limits = this.limits;
    return {
      rejected: () => limits.failedCredential(req, res),
      admitted: (bearer: Bearer) => (bearer.kind === 'anonymous' ? limits.anonymousRequest(req, res) : limits.credentialRequest(credentialId(bearer), res)),
    };
  }

  private applies(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    let applies = this.limited.get(handler);
    if (applies === undefined) {
      const targets = [handler, context.getClass()];
      const unlimited = this.reflector.getAllAndOverride<boolean>(NOT_RATE_LIMITED, targets) === true;
      const own = this.reflector.getAllAndOverride<unknown>(IS_PUBLIC, targets) === OWN_CREDENTIAL;
      this.limited.set(handler, (applies = !unlimited && !own));
    }
    return applies;
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
