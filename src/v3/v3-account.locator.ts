import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request } from 'express';
import { DataSource } from 'typeorm';
import type { Account } from '../accounts/account.entity';
import type { AccountLocator } from '../access/decorators';
import { CatalogueService } from '../catalogue/catalogue.service';
import { isUuid } from '../jsonapi/ids';
import type { Query } from '../jsonapi/query';
import { v3ProductId } from './v3-params';

/**
 * The account of a Cryptlex-compatible request, whose URL names no account: found from the
 * product id (`/v3/releases/...?productId=`) or the release id (`/v3/:releaseId`) — the only
 * lookups across accounts, and only to learn the account. The global guard then authenticates the
 * key or token inside that account; an unknown product or release answers exactly what an invalid
 * credential would (401), so that nothing tells a caller whether an id exists in another account.
 */
@Injectable()
export class V3AccountLocator implements AccountLocator {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly catalogue: CatalogueService,
  ) {}

  productOf(req: Request): string | undefined {
    if (req.params?.releaseId !== undefined) return undefined;
    const productId = (req.query as Query).productId;
    return typeof productId === 'string' && isUuid(productId) ? productId.toLowerCase() : undefined;
  }

  async locate(req: Request): Promise<Account | null> {
    const releaseId = req.params?.releaseId as string | undefined;
    let accountId: string | null = null;
    if (releaseId === undefined) {
      accountId = await this.catalogue.productAccount(v3ProductId(req.query as Query));
    } else if (isUuid(releaseId)) {
      const rows: Array<{ account_id: string }> = await this.db.query('SELECT account_id FROM releases WHERE id = $1', [releaseId.toLowerCase()]);
      accountId = rows[0]?.account_id ?? null;
    }
    return accountId ? this.catalogue.account(accountId) : null;
  }
}
