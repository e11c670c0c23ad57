import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { StoredFiles } from '../storage/stored-files';
import { paginate } from '../jsonapi/paginate';
import type { ListQuery } from '../jsonapi/query';
import type { PageResult } from '../jsonapi/serializer';
import { Account } from './account.entity';

export const ACCOUNT_SORT = { created: ['account.created'], name: ['account.name'] };

/** What the operator (the root token) does with whole accounts: list them, delete one with its files. */
@Injectable()
export class AccountsOperatorService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly storedFiles: StoredFiles,
  ) {}

  list(query: ListQuery): Promise<PageResult<Account>> {
    return paginate(this.db.getRepository(Account).createQueryBuilder('account'), query.page, query.sort, ACCOUNT_SORT);
  }

  /**
   * Deletes the account and everything in it (rows cascade), then, after the commit, every file
   * its artifacts kept in storage (uploaded ones and uploads under way).
   */
  async remove(account: Account): Promise<void> {
    const stored = await this.db.transaction(async (m) => {
      await m.query('SELECT id FROM accounts WHERE id = $1 FOR UPDATE', [account.id]);
      const rows: Array<{ storage_key: string | null; upload_key: string | null }> = await m.query(
        'SELECT storage_key, upload_key FROM artifacts WHERE account_id = $1',
        [account.id],
      );
      await m.delete(Account, { id: account.id });
      return rows.flatMap((r) => [{ storageKey: r.storage_key }, { storageKey: r.upload_key }]);
    });
    await this.storedFiles.removeStoredFiles(stored);
  }
}
