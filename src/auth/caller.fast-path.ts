import type { Bearer } from '../access/bearer';
import type { Credential } from '../access/credentials';
import type { AccountRef } from '../access/decorators';
import type { NotWarm } from '../common/not-warm';

/** A request's caller as memory knows it. */
export interface WarmCaller {
  account: AccountRef;
  bearer: Bearer;
}

/**
 * Authentication's step from memory (implemented by the fast-path layer): the account named by
 * `:account` (or by the product a Cryptlex route names) and the caller of a license key or of no credential, when the catalogue holds them;
 * NOT_WARM otherwise (the guard then awaits the ordinary checks). Throws as authentication does
 * (a suspended or revoked license).
 */
export abstract class CallerFastPath {
  /** `where`: the account named by `:account` (id or slug), or the product whose account it is. */
  abstract caller(where: { account: string } | { product: string }, credential: Credential): WarmCaller | NotWarm;
}
