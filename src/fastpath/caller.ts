import { Injectable } from '@nestjs/common';
import type { Credential } from '../access/credentials';
import { CallerFastPath } from '../auth/caller.fast-path';
import type { WarmCaller } from '../auth/caller.fast-path';
import { NOT_WARM } from '../common/not-warm';
import type { NotWarm } from '../common/not-warm';
import { WarmCatalogue } from './warm';

/** The caller of a hot request from memory: its account, and its license (or no credential). */
@Injectable()
export class CallerFromMemory implements CallerFastPath {
  constructor(private readonly warm: WarmCatalogue) {}

  caller(where: { account: string } | { product: string }, credential: Credential): WarmCaller | NotWarm {
    if (credential.kind !== 'license' && credential.kind !== 'none') return NOT_WARM;
    const accountId = 'account' in where ? where.account : this.warm.productAccount(where.product);
    const account = accountId === undefined ? undefined : this.warm.account(accountId);
    if (!account) return NOT_WARM;
    if (credential.kind === 'none') return { account, bearer: { kind: 'anonymous', accountId: account.id } };
    const bearer = this.warm.licenseBearer(account.id, credential.key);
    return bearer ? { account, bearer } : NOT_WARM;
  }
}
