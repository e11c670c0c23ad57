import { Body, Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Bearer } from '../access/bearer';
import { CurrentAccount, CurrentBearer, Public } from '../access/decorators';
import type { AccountRef } from '../access/decorators';
import { documentError, isPlainObject } from '../jsonapi/document';
import { ApiError } from '../jsonapi/errors';
import { singleDocument, toResource } from '../jsonapi/serializer';
import { ApiAnswer } from '../openapi/decorators';
import { ProductDirectory, resolveProductRef } from '../products/product-ref';
import { LicensesService } from './licenses.service';
import { ProductSerializer } from '../products/product.serializer';
import { ProductsService } from '../products/products.service';
import { RateLimitsService } from '../ratelimit/rate-limits.service';
import { UserSerializer } from '../users/user.serializer';
import { UsersService } from '../users/users.service';
import type { License } from './license.entity';
import { LicenseSerializer } from './license.serializer';

/** The answers of `validate-key`, as Keygen names them. */
export type KeyValidationCode = 'VALID' | 'NOT_FOUND' | 'SUSPENDED' | 'EXPIRED' | 'PRODUCT_SCOPE_MISMATCH';

const DETAILS: Record<KeyValidationCode, string> = {
  VALID: 'is valid',
  NOT_FOUND: 'does not exist',
  SUSPENDED: 'is suspended',
  EXPIRED: 'is expired',
  PRODUCT_SCOPE_MISMATCH: 'product scope does not match',
};

/** `{meta: {key, scope?: {product}}}` -> the key and the product scope (an id or a code). */
function parseValidation(body: unknown): { key: string; product?: string } {
  if (!isPlainObject(body) || !isPlainObject(body.meta)) throw documentError('the request body must be {"meta": {"key": "..."}}', '');
  const { key, scope } = body.meta;
  if (key === undefined || key === null || key === '') throw new ApiError(422, 'KEY_MISSING', 'is required', { pointer: '/meta/key' });
  if (typeof key !== 'string' || key.length > 255) throw new ApiError(422, 'KEY_INVALID', 'must be a string of at most 255 characters', { pointer: '/meta/key' });
  if (scope === undefined || scope === null) return { key };
  if (!isPlainObject(scope)) throw new ApiError(422, 'SCOPE_INVALID', 'must be an object such as {"product": "<id>"}', { pointer: '/meta/scope' });
  const product = scope.product;
  if (product === undefined) return { key };
  if (typeof product !== 'string' || product === '' || product.length > 255) {
    throw new ApiError(422, 'SCOPE_INVALID', 'must be a product id or code', { pointer: '/meta/scope/product' });
  }
  return { key, product };
}

/**
 * What an application asks about its own key and caller:
 * - `POST /licenses/actions/validate-key` (no credential): is this key valid, and for this product?
 *   Unknown keys count as failed credential checks of the caller's address (the same limit).
 * - `GET /me`: the caller itself (a user, a license or a product).
 */
@Controller('v1/accounts/:account')
export class LicenseSelfServiceController {
  constructor(
    private readonly licenses: LicensesService,
    private readonly directory: ProductDirectory,
    private readonly limits: RateLimitsService,
    private readonly users: UsersService,
    private readonly products: ProductsService,
  ) {}

  @ApiAnswer(200, 'meta: {valid, code (VALID, NOT_FOUND, SUSPENDED, EXPIRED, PRODUCT_SCOPE_MISMATCH), detail}; data: the license, or null when the key is unknown', 'application/vnd.api+json')
  @Post('licenses/actions/validate-key')
  @Public()
  @HttpCode(200)
  async validateKey(@CurrentAccount() account: AccountRef, @Body() body: unknown, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const { key, product } = parseValidation(body);
    if (this.limits.enabled) await this.limits.assertCredentialChecksAllowed(req);
    const license = await this.licenses.findByKey(account.id, key);
    res.setHeader('Cache-Control', 'no-store');
    if (!license) {
      if (this.limits.enabled) await this.limits.failedCredential(req, res);
      return { data: null, meta: { valid: false, code: 'NOT_FOUND', detail: `The license ${DETAILS.NOT_FOUND}` } };
    }
    const status = license.statusAt();
    let code: KeyValidationCode = status === 'SUSPENDED' ? 'SUSPENDED' : status === 'EXPIRED' ? 'EXPIRED' : 'VALID';
    if (code === 'VALID' && product !== undefined && (await resolveProductRef(this.directory, account.id, product, 'product')) !== license.productId) {
      code = 'PRODUCT_SCOPE_MISMATCH';
    }
    return { data: toResource(LicenseSerializer, license), meta: { valid: code === 'VALID', code, detail: `The license ${DETAILS[code]}` } };
  }

  @ApiAnswer(200, 'The caller: a users resource (user and admin tokens), a licenses resource (a license key) or a products resource (a product token)', 'application/vnd.api+json')
  @Get('me')
  async me(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef) {
    switch (bearer.kind) {
      case 'admin':
      case 'user': {
        const user = await this.users.find(account.id, bearer.userId);
        if (!user) throw ApiError.notFound('The user was not found');
        return singleDocument(UserSerializer, user);
      }
      case 'license':
        // the guard's license is the License row the catalogue keeps
        return singleDocument(LicenseSerializer, bearer.license as License);
      case 'product': {
        const product = await this.products.findInAccount(account.id, bearer.productId);
        if (!product) throw ApiError.notFound('The product was not found');
        return singleDocument(ProductSerializer, product);
      }
      case 'anonymous':
        throw ApiError.tokenMissing();
      default:
        throw ApiError.forbidden('The root token is not a caller of an account');
    }
  }
}
