import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { Bearer } from '../access/bearer';
import { newTokenSecret, tokenDigest } from '../access/secrets';
import { EventsService } from '../events/events.service';
import { ApiError } from '../jsonapi/errors';
import { toResource } from '../jsonapi/serializer';
import { isUuid } from '../jsonapi/ids';
import { paginate } from '../jsonapi/paginate';
import type { ListQuery } from '../jsonapi/query';
import type { PageResult } from '../jsonapi/serializer';
import type { User } from '../users/user.entity';
import { CreateTokenDto } from './dto';
import { Token, TokenKind } from './token.entity';
import { TokenSerializer } from './token.serializer';
import type { TokenView } from './token.serializer';

export const TOKEN_SORT = { created: ['token.created'] };

const PREFIX: Record<TokenKind, string> = { 'admin-token': 'admin', 'user-token': 'user', 'product-token': 'prod' };

function parseExpiry(expiry: string | null | undefined): Date | null {
  if (!expiry) return null;
  const date = new Date(expiry);
  if (date.getTime() <= Date.now()) throw ApiError.attribute('expiry', 'INVALID', 'must be in the future');
  return date;
}

@Injectable()
export class TokensService {
  constructor(
    @InjectRepository(Token) private readonly tokens: Repository<Token>,
    private readonly events: EventsService,
  ) {}

  private async issue(fields: Partial<Token> & Pick<Token, 'accountId' | 'kind'>): Promise<TokenView> {
    const secret = newTokenSecret(PREFIX[fields.kind]);
    const token = this.tokens.create({ name: null, expiry: null, userId: null, productId: null, ...fields, digest: tokenDigest(secret) });
    const stored = await this.tokens.manager.transaction(async (tx) => {
      await tx.insert(Token, token);
      const row = await tx.findOneOrFail(Token, { where: { id: token.id, accountId: fields.accountId } });
      await this.events.record(tx, fields.accountId, 'token.created', tokenResource(row));
      return row;
    });
    return Object.assign(stored, { secret });
  }

  issueForUser(user: User, dto: CreateTokenDto): Promise<TokenView> {
    return this.issue({
      accountId: user.accountId,
      kind: user.role === 'admin' ? 'admin-token' : 'user-token',
      userId: user.id,
      name: dto.name ?? null,
      expiry: parseExpiry(dto.expiry),
    });
  }

  issueForProduct(accountId: string, productId: string, dto: CreateTokenDto): Promise<TokenView> {
    return this.issue({ accountId, kind: 'product-token', productId, name: dto.name ?? null, expiry: parseExpiry(dto.expiry) });
  }

  /** Admins see every token of the account; users and products their own. */
  private scope(bearer: Bearer, accountId: string) {
    const qb = this.tokens.createQueryBuilder('token').where('token.account_id = :accountId', { accountId });
    switch (bearer.kind) {
      case 'admin':
        return qb;
      case 'user':
        return qb.andWhere('token.user_id = :userId', { userId: bearer.userId });
      case 'product':
        return qb.andWhere('token.product_id = :productId', { productId: bearer.productId });
      default:
        throw ApiError.forbidden();
    }
  }

  list(bearer: Bearer, accountId: string, query: ListQuery): Promise<PageResult<Token>> {
    return paginate(this.scope(bearer, accountId), query.page, query.sort, TOKEN_SORT);
  }

  async findVisible(bearer: Bearer, accountId: string, id: string): Promise<Token> {
    const token = isUuid(id) ? await this.scope(bearer, accountId).andWhere('token.id = :id', { id }).getOne() : null;
    if (!token) throw ApiError.notFound('The token was not found');
    return token;
  }

  async revoke(bearer: Bearer, accountId: string, id: string): Promise<void> {
    const token = await this.findVisible(bearer, accountId, id);
    await this.tokens.manager.transaction(async (tx) => {
      const gone = await tx.delete(Token, { id: token.id, accountId });
      if (gone.affected) await this.events.record(tx, accountId, 'token.revoked', tokenResource(token));
    });
  }
}

/** A token as its event shows it: never the secret (which is not stored anyway). */
function tokenResource(token: Token) {
  const resource = toResource(TokenSerializer, token);
  delete resource.attributes.token;
  return resource;
}
