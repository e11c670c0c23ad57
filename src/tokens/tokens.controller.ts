import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { performance } from 'node:perf_hooks';
import type { Bearer } from '../access/bearer';
import { extractCredential } from '../access/credentials';
import { CurrentAccount, CurrentBearer, Public } from '../access/decorators';
import type { AccountRef } from '../access/decorators';
import { JsonApiBodyPipe } from '../jsonapi/body.pipe';
import { ApiError } from '../jsonapi/errors';
import { parseListQuery } from '../jsonapi/query';
import type { Query as Q } from '../jsonapi/query';
import { created, listDocument, singleDocument } from '../jsonapi/serializer';
import { PasswordHasher } from '../users/passwords';
import { UsersService } from '../users/users.service';
import { CreateTokenDto, TOKEN_ATTRIBUTES } from './dto';
import { SignInFailureDelay } from './failure-delay';
import { TokenSerializer, withoutSecret } from './token.serializer';
import { TOKEN_SORT, TokensService } from './tokens.service';
import { ApiDocument, ApiJsonApiBody, ApiListQuery, ApiNoContent } from '../openapi/decorators';
import { RateLimitsService } from '../ratelimit/rate-limits.service';

const LIST = { sort: Object.keys(TOKEN_SORT), fields: { tokens: TokenSerializer.attributeNames } };
const optionalBody = new JsonApiBodyPipe({ type: 'tokens', dto: CreateTokenDto, attributes: TOKEN_ATTRIBUTES });
/** The answers of a sign-in that failed: credentials invalid or missing, limited, hash pool busy. */
const FAILED = new Set([401, 429, 503]);

// no @SettlesCatalogue(): tokens and users are not in the catalogue (nothing to wait for), and a
// settle per sign-in made every sign-in, failed ones too, queue on the catalogue's one listening
// connection, so that a flood of wrong passwords delayed everybody's sign-in
@Controller('v1/accounts/:account/tokens')
export class TokensController {
  constructor(
    private readonly tokens: TokensService,
    private readonly users: UsersService,
    private readonly limits: RateLimitsService,
    private readonly passwords: PasswordHasher,
    private readonly failureDelay: SignInFailureDelay,
  ) {}

  /** HTTP Basic `email:password` -> a new token for that user (admin token for an admin). */
  @ApiJsonApiBody(optionalBody)
  @ApiDocument(TokenSerializer, 'created')
  @Post()
  @Public()
  async create(@CurrentAccount() account: AccountRef, @Req() req: Request, @Body() body: unknown, @Res({ passthrough: true }) res: Response) {
    const arrived = performance.now();
    try {
      return await this.signIn(account, req, body, res);
    } catch (error) {
      if (error instanceof ApiError && FAILED.has(error.status)) await this.failureDelay.hold(arrived);
      throw error;
    }
  }

  private async signIn(account: AccountRef, req: Request, body: unknown, res: Response) {
    const credential = extractCredential(req);
    if (credential.kind !== 'basic') {
      throw new ApiError(401, 'TOKEN_MISSING', 'Send HTTP Basic credentials (email:password) to create a token', { header: 'Authorization' });
    }
    const dto = body && Object.keys(body as object).length ? await optionalBody.transform(body) : new CreateTokenDto();
    const email = credential.username;
    // failed sign-ins are limited per email and network and per network, checked before the (slow) hash
    await this.limits.assertSignInAllowed(req, account.id, email);
    // where this email signed in before, its check waits ahead of strangers'; a full lane is 503 at once
    const lane = (await this.limits.knownSignIn(req, account.id, email)) ? 'known' : 'other';
    this.passwords.assertRoom(lane);
    const user = await this.users.findWithPassword(account.id, email);
    const valid = await this.passwords.verify(credential.password, user?.passwordDigest ?? null, lane);
    if (!user || !valid) {
      await this.limits.failedSignIn(req, res, account.id, email);
      res.setHeader('WWW-Authenticate', 'Basic realm="shipgate"');
      throw new ApiError(401, 'CREDENTIALS_INVALID', 'email and password must be valid', { header: 'Authorization' });
    }
    await this.limits.succeededSignIn(req, account.id, email);
    const token = await this.tokens.issueForUser(user, dto);
    res.setHeader('Cache-Control', 'no-store');
    const doc = singleDocument(TokenSerializer, token);
    return created(res, doc);
  }

  @ApiDocument(TokenSerializer, 'list')
  @ApiListQuery({ sort: LIST.sort })
  @Get()
  async list(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Query() query: Q, @Res({ passthrough: true }) res: Response) {
    const q = parseListQuery(query, LIST);
    const page = await this.tokens.list(bearer, account.id, q);
    return withoutSecret(listDocument(TokenSerializer, page, { path: res.req.path, query, page: q.page, fields: q.fields }));
  }

  @ApiDocument(TokenSerializer, 'single')
  @Get(':id')
  async show(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string) {
    return withoutSecret(singleDocument(TokenSerializer, await this.tokens.findVisible(bearer, account.id, id)));
  }

  @ApiNoContent()
  @Delete(':id')
  @HttpCode(204)
  async revoke(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string): Promise<void> {
    await this.tokens.revoke(bearer, account.id, id);
  }
}
