import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository, SelectQueryBuilder } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm';
import type { Bearer } from '../access/bearer';
import { EventsService } from '../events/events.service';
import { ApiError, ErrorCode, uniqueViolation } from '../jsonapi/errors';
import { toResource } from '../jsonapi/serializer';
import { isUuid } from '../jsonapi/ids';
import { paginate } from '../jsonapi/paginate';
import type { ListQuery } from '../jsonapi/query';
import type { PageResult } from '../jsonapi/serializer';
import { CreateTokenDto } from '../tokens/dto';
import type { TokenView } from '../tokens/token.serializer';
import { TokensService } from '../tokens/tokens.service';
import { StoredFiles } from '../storage/stored-files';
import { CreateProductDto, PRODUCT_REQUIRED, UpdateProductDto } from './dto';
import { Product } from './product.entity';
import { ProductSerializer } from './product.serializer';

export const PRODUCT_SORT = { created: ['product.created'], name: ['product.name'] };

/**
 * Who may see or change products. Admins: everything in their account. A product token: its own
 * product. A license: its product. A user: the products of the licenses it owns. Licenses and users
 * never see a CLOSED product. Only admins write.
 */
export class ProductPolicy {
  /** The products the bearer can see, as a SQL scope on alias `product` (lists and single reads alike). */
  static scope(bearer: Bearer, qb: SelectQueryBuilder<Product>): SelectQueryBuilder<Product> {
    switch (bearer.kind) {
      case 'admin':
        return qb;
      case 'product':
        return qb.andWhere('product.id = :bearerProductId', { bearerProductId: bearer.productId });
      // CLOSED products are invisible to everyone but admins and their own product token
      case 'license':
        return qb.andWhere("product.id = :bearerProductId AND product.distribution_strategy <> 'CLOSED'", {
          bearerProductId: bearer.license.productId,
        });
      case 'user':
        return qb.andWhere(
          `product.distribution_strategy <> 'CLOSED'
           AND product.id IN (SELECT l.product_id FROM licenses l WHERE l.account_id = product.account_id AND l.user_id = :bearerUserId)`,
          { bearerUserId: bearer.userId },
        );
      default:
        return qb.andWhere('false');
    }
  }

  static canManage(bearer: Bearer): boolean {
    return bearer.kind === 'admin';
  }
}

function rejectNulls(dto: object, names: readonly string[]): void {
  for (const name of names) {
    if ((dto as Record<string, unknown>)[name] === null) throw ApiError.attribute(name, 'INVALID', 'must not be null');
  }
}

function codeTaken(error: unknown): never {
  if (uniqueViolation(error) !== null) throw ApiError.attribute('code', 'TAKEN', 'is already taken');
  throw error;
}

@Injectable()
export class ProductsService {
  constructor(
    @InjectRepository(Product) private readonly products: Repository<Product>,
    private readonly tokens: TokensService,
    private readonly storedFiles: StoredFiles,
    private readonly events: EventsService,
  ) {}

  /** A product of the account by id, whoever asks (for other modules; no policy applied). */
  async findInAccount(accountId: string, id: string): Promise<Product | null> {
    if (!isUuid(id)) return null;
    return this.products.findOne({ where: { id: id.toLowerCase(), accountId } });
  }

  async create(bearer: Bearer, accountId: string, dto: CreateProductDto): Promise<Product> {
    if (!ProductPolicy.canManage(bearer)) throw ApiError.forbidden();
    const product = this.products.create({
      accountId,
      name: dto.name,
      code: dto.code ?? null,
      distributionStrategy: dto.distributionStrategy ?? 'LICENSED',
      url: dto.url ?? null,
      minimumVersion: dto.minimumVersion ?? null,
      rollbackOnYank: dto.rollbackOnYank ?? false,
      metadata: dto.metadata ?? {},
    });
    return this.products.manager.transaction(async (tx) => {
      try {
        await tx.insert(Product, product as QueryDeepPartialEntity<Product>);
      } catch (error) {
        codeTaken(error);
      }
      const stored = await tx.findOneOrFail(Product, { where: { id: product.id, accountId } });
      await this.events.record(tx, accountId, 'product.created', toResource(ProductSerializer, stored));
      return stored;
    });
  }

  list(bearer: Bearer, accountId: string, query: ListQuery): Promise<PageResult<Product>> {
    if (bearer.kind === 'anonymous' || bearer.kind === 'root') throw ApiError.forbidden();
    const qb = ProductPolicy.scope(bearer, this.products.createQueryBuilder('product').where('product.account_id = :accountId', { accountId }));
    return paginate(qb, query.page, query.sort, PRODUCT_SORT);
  }

  /** By id, or by code (`GET /products/acme-app`). */
  async findVisible(bearer: Bearer, accountId: string, id: string): Promise<Product> {
    const qb = this.products.createQueryBuilder('product').where('product.account_id = :accountId', { accountId });
    if (isUuid(id)) qb.andWhere('product.id = :id', { id: id.toLowerCase() });
    else qb.andWhere('product.code = :code', { code: id });
    const product = id.length <= 255 ? await ProductPolicy.scope(bearer, qb).getOne() : null;
    if (!product) throw ApiError.notFound('The product was not found');
    return product;
  }

  /** Visible (else 404) and writable by the bearer (else 403): checked before the body is validated. */
  async findManageable(bearer: Bearer, accountId: string, id: string): Promise<Product> {
    const product = await this.findVisible(bearer, accountId, id);
    if (!ProductPolicy.canManage(bearer)) throw ApiError.forbidden();
    return product;
  }

  /** `product` comes from findManageable. */
  async update(accountId: string, product: Product, dto: UpdateProductDto): Promise<Product> {
    rejectNulls(dto, PRODUCT_REQUIRED);
    const changes: QueryDeepPartialEntity<Product> = {};
    if (dto.name !== undefined) changes.name = dto.name;
    if (dto.code !== undefined) changes.code = dto.code;
    if (dto.distributionStrategy !== undefined) changes.distributionStrategy = dto.distributionStrategy;
    if (dto.url !== undefined) changes.url = dto.url;
    if (dto.minimumVersion !== undefined) changes.minimumVersion = dto.minimumVersion;
    if (dto.rollbackOnYank !== undefined) changes.rollbackOnYank = dto.rollbackOnYank;
    if (dto.metadata !== undefined) changes.metadata = dto.metadata as QueryDeepPartialEntity<Record<string, unknown>>;
    return this.products.manager.transaction(async (tx) => {
      if (!Object.keys(changes).length) return tx.findOneOrFail(Product, { where: { id: product.id, accountId } });
      try {
        await tx.update(Product, { id: product.id, accountId }, changes);
      } catch (error) {
        codeTaken(error);
      }
      const changed = await tx.findOneOrFail(Product, { where: { id: product.id, accountId } });
      await this.events.record(tx, accountId, 'product.updated', toResource(ProductSerializer, changed));
      return changed;
    });
  }

  /**
   * Refuses while the product has releases, unless forced (then its releases, licenses and tokens go
   * too, and after the commit the stored files of its releases' artifacts).
   */
  async remove(bearer: Bearer, accountId: string, id: string, force: boolean): Promise<void> {
    const product = await this.findManageable(bearer, accountId, id);
    const stored = await this.products.manager.transaction(async (tx) => {
      // lock the product row so that a release created concurrently cannot slip past the check
      await tx.query('SELECT id FROM products WHERE id = $1 AND account_id = $2 FOR UPDATE', [product.id, accountId]);
      if (!force) {
        const rows: Array<{ n: number }> = await tx.query(
          'SELECT count(*)::int AS n FROM releases WHERE product_id = $1 AND account_id = $2',
          [product.id, accountId],
        );
        if (rows[0].n > 0) {
          throw new ApiError(422, ErrorCode.PRODUCT_HAS_RELEASES, `The product has ${rows[0].n} release(s); delete them first or pass ?force=true`);
        }
      }
      const artifacts: Array<{ storage_key: string | null }> = await tx.query(
        `SELECT a.storage_key FROM artifacts a JOIN releases r ON r.id = a.release_id
          WHERE r.product_id = $1 AND r.account_id = $2`,
        [product.id, accountId],
      );
      await tx.delete(Product, { id: product.id, accountId });
      await this.events.record(tx, accountId, 'product.deleted', toResource(ProductSerializer, product));
      return artifacts.map((a) => ({ storageKey: a.storage_key }));
    });
    await this.storedFiles.removeStoredFiles(stored);
  }

  /** `product` comes from findManageable. */
  issueToken(accountId: string, product: Product, dto: CreateTokenDto): Promise<TokenView> {
    return this.tokens.issueForProduct(accountId, product.id, dto);
  }
}
