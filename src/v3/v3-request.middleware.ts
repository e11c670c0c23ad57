import { Injectable, NestMiddleware } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { NextFunction, Request, Response } from 'express';
import { DataSource } from 'typeorm';
import type { AuthenticatedRequest } from '../auth/decorators';
import { CatalogueService } from '../catalogue/catalogue.service';
import { extractCredential } from '../auth/credentials';
import type { Credential } from '../auth/credentials';
import { ApiError, ErrorCode } from '../jsonapi/errors';
import { isUuid } from '../jsonapi/ids';
import { fullPath } from '../jsonapi/media-type';
import { RateLimitsService } from '../ratelimit/rate-limits.service';
import { v3ProductId } from './v3-params';

/** What the v3 routes learned before the global guard ran. */
export interface V3Request extends Request, AuthenticatedRequest {
  plainErrors?: boolean;
}

/**
 * Runs before the global guard on the Cryptlex-compatible routes, which carry no `:account`:
 * - marks the request so that every error (the guard's too) is rendered as `{code, message}`;
 * - finds the account from the product id (`/v3/releases/...?productId=`) or from the release id
 *   (`/v3/:releaseId`) — the only lookups across accounts, and only to learn the account — and
 *   puts it on the request, so that the guard authenticates the key or token inside that account.
 * An unknown product or release answers exactly what an invalid credential would (401), so that
 * nothing tells a caller whether an id exists in some other account.
 */
@Injectable()
export class V3RequestMiddleware implements NestMiddleware {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly catalogue: CatalogueService,
    private readonly limits: RateLimitsService,
  ) {}

  async use(req: V3Request, res: Response, next: NextFunction): Promise<void> {
    req.plainErrors = true;
    const path = fullPath(req).replace(/\/+$/, '');
    let accountId: string | undefined;
    if (/^\/v3\/releases\/(update|latest)$/.test(path)) {
      accountId = (await this.catalogue.productAccount(v3ProductId(req.query as Record<string, unknown>))) ?? undefined;
    } else {
      const m = /^\/v3\/([^/]+)$/.exec(path);
      const releaseId = m ? decodeURIComponent(m[1]) : '';
      if (isUuid(releaseId)) {
        const rows: Array<{ account_id: string }> = await this.db.query('SELECT account_id FROM releases WHERE id = $1', [releaseId.toLowerCase()]);
        accountId = rows[0]?.account_id;
      }
    }
    const account = accountId ? await this.catalogue.account(accountId) : null;
    if (!account) {
      const credential = extractCredential(req);
      if (this.limits.enabled && credential.kind !== 'none' && credential.kind !== 'basic') {
        // a key or token for no known product is a failed credential check like any other
        await this.limits.assertCredentialChecksAllowed(req);
        await this.limits.failedCredential(req, res);
      }
      throw rejectedCredential(credential);
    }
    req.account = account;
    next();
  }
}

/** The 401 a credential gets where it cannot be valid. */
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
