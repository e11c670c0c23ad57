import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Account } from '../accounts/account.entity';
import { CatalogueService } from '../catalogue/catalogue.service';
import type { CachedLicense } from '../catalogue/catalogue.service';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config';
import { ApiError, ErrorCode } from '../jsonapi/errors';
import type { License } from '../licenses/license.entity';
import { licenseWindow } from '../licenses/license-window';
import type { Bearer } from '../access/bearer';
import type { AccountRef } from '../access/decorators';
import { safeEqual, tokenDigest } from '../access/secrets';

/** Turns credentials into a Bearer bound to one account. */
@Injectable()
export class AuthService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
    private readonly catalogue: CatalogueService,
  ) {}

  /** `:account` is a UUID or a slug; unknown is 404. */
  async resolveAccount(idOrSlug: string): Promise<Account> {
    const account = await this.catalogue.account(idOrSlug);
    if (!account) throw ApiError.notFound('The account was not found');
    return account;
  }

  /** A bearer token: the root token outside accounts, a stored token inside one. */
  async authenticateToken(account: AccountRef | undefined, secret: string): Promise<Bearer> {
    if (!account) {
      if (!this.config.rootToken) {
        throw new ApiError(403, ErrorCode.ACCOUNT_CREATION_DISABLED, 'Account creation is disabled: the server has no ROOT_TOKEN');
      }
      if (this.config.rootToken && safeEqual(secret, this.config.rootToken)) return { kind: 'root' };
      throw new ApiError(401, ErrorCode.TOKEN_INVALID, 'The token is invalid', { header: 'Authorization' });
    }
    const rows: Array<{ id: string; kind: string; user_id: string | null; product_id: string | null; expiry: Date | null; role: string | null }> =
      await this.db.query(
        `SELECT t.id, t.kind, t.user_id, t.product_id, t.expiry, u.role
           FROM tokens t LEFT JOIN users u ON u.id = t.user_id
          WHERE t.digest = $1 AND t.account_id = $2`,
        [tokenDigest(secret), account.id],
      );
    const row = rows[0];
    // the operator's root token reaches an account's own resource (GET|DELETE /v1/accounts/:account); its policies grant it nothing else
    if (!row && this.config.rootToken && safeEqual(secret, this.config.rootToken)) return { kind: 'root' };
    if (!row || (row.expiry !== null && row.expiry.getTime() <= Date.now())) {
      throw new ApiError(401, ErrorCode.TOKEN_INVALID, 'The token is invalid, revoked or expired', { header: 'Authorization' });
    }
    if (row.product_id) return { kind: 'product', accountId: account.id, productId: row.product_id, tokenId: row.id };
    // the role is read now, so a demoted admin's token stops being an admin token
    const kind = row.role === 'admin' && row.kind === 'admin-token' ? 'admin' : 'user';
    return { kind, accountId: account.id, userId: row.user_id!, tokenId: row.id };
  }

  /** A license key: unknown 401, suspended 403, expired with REVOKE_ACCESS 403. */
  async authenticateLicense(account: AccountRef | undefined, key: string): Promise<Bearer> {
    const cached = account ? await this.catalogue.license(account.id, key) : null;
    if (!cached) throw new ApiError(401, ErrorCode.LICENSE_INVALID, 'The license key is invalid');
    return licenseBearer(cached);
  }

  /** Whether `key` is a license key of the account (for a hint when one is sent as a token). */
  async isLicenseKey(account: AccountRef, key: string): Promise<boolean> {
    return (await this.catalogue.license(account.id, key)) !== null;
  }
}

/** The license's Bearer, made once per catalogue entry (it is never changed; the entry is replaced). */
export function licenseBearer(cached: CachedLicense): Bearer {
  assertLicenseUsable(cached.license);
  return (cached.bearer ??= { kind: 'license', accountId: cached.license.accountId, license: cached.license, facts: cached.facts });
}

export function assertLicenseUsable(license: License, now = new Date()): void {
  const status = license.statusAt(now);
  if (status === 'SUSPENDED') throw new ApiError(403, ErrorCode.LICENSE_SUSPENDED, 'The license is suspended');
  if (licenseWindow(license, now.getTime()) === 'none') {
    throw new ApiError(403, ErrorCode.LICENSE_EXPIRED, 'The license has expired');
  }
}
