import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, SelectQueryBuilder } from 'typeorm';
import type { EntityManager, QueryDeepPartialEntity } from 'typeorm';
import type { Bearer } from '../access/bearer';
import { ApiError, uniqueViolation } from '../jsonapi/errors';
import { isUuid } from '../jsonapi/ids';
import { paginate } from '../jsonapi/paginate';
import type { ListQuery } from '../jsonapi/query';
import type { PageResult } from '../jsonapi/serializer';
import { ProductDirectory, resolveProductRef } from '../products/product-ref';
import { Product } from '../products/product.entity';
import { CreatePackageDto, UpdatePackageDto } from './dto';
import { Package } from './package.entity';
import { PackageSerializer } from './package.serializer';
import { EventsService } from '../events/events.service';
import { toResource } from '../jsonapi/serializer';
import { PackageErrorCode } from './package-errors';
import type { PackageEngine } from './package.entity';

/** A package's downloads per version and file (PackagesService.downloads). */
export interface PackageDownloads {
  data: Array<{ version: string; channel: string; status: string; downloads: number; files: Array<{ filename: string; downloads: number }> }>;
  meta: { package: string; downloads: number };
}

export const PACKAGE_SORT = { created: ['package.created'], name: ['package.name'], key: ['package.key'] };

export interface PackageFilters {
  product?: string;
  engine?: PackageEngine;
}

/**
 * Who may see or change packages: the product's rule (ProductPolicy) applied to the package's
 * product. Admins: every package of the account; a product token: its product's (and it may write
 * them); a license: its product's unless CLOSED; a user: those of the products it holds licenses
 * of; anonymous callers: packages of OPEN products. Only admins and the product's token write.
 */
export class PackagePolicy {
  static scope(bearer: Bearer, qb: SelectQueryBuilder<Package>): SelectQueryBuilder<Package> {
    switch (bearer.kind) {
      case 'admin':
        return qb;
      case 'product':
        return qb.andWhere('package.product_id = :pkProduct', { pkProduct: bearer.productId });
      case 'license':
        return qb.andWhere(
          `(package.product_id = :pkProduct AND EXISTS (SELECT 1 FROM products pp WHERE pp.id = package.product_id AND pp.distribution_strategy <> 'CLOSED'))
           OR EXISTS (SELECT 1 FROM products pp WHERE pp.id = package.product_id AND pp.distribution_strategy = 'OPEN')`,
          { pkProduct: bearer.license.productId },
        );
      case 'user':
        return qb.andWhere(
          `EXISTS (SELECT 1 FROM products pp WHERE pp.id = package.product_id AND (pp.distribution_strategy = 'OPEN' OR (pp.distribution_strategy <> 'CLOSED'
             AND pp.id IN (SELECT l.product_id FROM licenses l WHERE l.account_id = package.account_id AND l.user_id = :pkUser))))`,
          { pkUser: bearer.userId },
        );
      case 'anonymous':
        return qb.andWhere(`EXISTS (SELECT 1 FROM products pp WHERE pp.id = package.product_id AND pp.distribution_strategy = 'OPEN')`);
      default:
        return qb.andWhere('false');
    }
  }

  static canWrite(bearer: Bearer, productId: string): boolean {
    return bearer.kind === 'admin' || (bearer.kind === 'product' && bearer.productId === productId);
  }
}

/** A package of the account by id or key (no policy applied; null: none). */
export function findPackageRef(m: EntityManager, accountId: string, ref: string): Promise<Package | null> {
  if (ref.length > 255) return Promise.resolve(null);
  return m.findOne(Package, { where: isUuid(ref) ? { accountId, id: ref.toLowerCase() } : { accountId, key: ref } });
}

function keyTaken(error: unknown): never {
  if (uniqueViolation(error) !== null) throw ApiError.attribute('key', 'TAKEN', 'is already taken by another package of this account (names are compared as pip compares them: acme_sdk is acme-sdk)');
  throw error;
}

@Injectable()
export class PackagesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly directory: ProductDirectory,
    private readonly events: EventsService,
  ) {}

  async create(bearer: Bearer, accountId: string, dto: CreatePackageDto): Promise<Package> {
    const productId = await resolveProductRef(this.directory, accountId, dto.productId);
    const product = await this.db.manager.findOne(Product, { where: { id: productId, accountId } });
    if (!product) throw ApiError.relationship('product', 'NOT_FOUND', `products ${dto.productId.slice(0, 64)} was not found`);
    if (!PackagePolicy.canWrite(bearer, product.id)) throw ApiError.forbidden('Packages are created by admins and the product\'s token');
    const values: QueryDeepPartialEntity<Package> = { accountId, productId: product.id, name: dto.name, key: dto.key, engine: dto.engine ?? null, metadata: dto.metadata ?? {} };
    return this.db.transaction(async (m) => {
      let id: string;
      try {
        id = ((await m.insert(Package, values)).identifiers[0] as { id: string }).id;
      } catch (error) {
        keyTaken(error);
      }
      const stored = await m.findOneOrFail(Package, { where: { id, accountId } });
      await this.events.record(m, accountId, 'package.created', toResource(PackageSerializer, stored));
      return stored;
    });
  }

  async list(bearer: Bearer, accountId: string, query: ListQuery, filters: PackageFilters): Promise<PageResult<Package>> {
    const qb = PackagePolicy.scope(bearer, this.db.manager.createQueryBuilder(Package, 'package').where('package.account_id = :accountId', { accountId }));
    if (filters.product !== undefined) qb.andWhere('package.product_id = :fProduct', { fProduct: await resolveProductRef(this.directory, accountId, filters.product) });
    if (filters.engine !== undefined) qb.andWhere('package.engine = :fEngine', { fEngine: filters.engine });
    return paginate(qb, query.page, query.sort, PACKAGE_SORT);
  }

  /** By id or key; hidden and unknown alike are 404. */
  async findVisible(bearer: Bearer, accountId: string, ref: string): Promise<Package> {
    const qb = this.db.manager.createQueryBuilder(Package, 'package').where('package.account_id = :accountId', { accountId });
    if (isUuid(ref)) qb.andWhere('package.id = :id', { id: ref.toLowerCase() });
    else qb.andWhere('package.key = :key', { key: ref });
    const found = ref.length <= 255 ? await PackagePolicy.scope(bearer, qb).getOne() : null;
    if (!found) throw ApiError.notFound('The package was not found');
    return found;
  }

  /** Visible (else 404) and writable by the bearer (else 403), before the body is validated. */
  async findWritable(bearer: Bearer, accountId: string, ref: string): Promise<Package> {
    const found = await this.findVisible(bearer, accountId, ref);
    if (!PackagePolicy.canWrite(bearer, found.productId)) throw ApiError.forbidden();
    return found;
  }

  async update(pkg: Package, dto: UpdatePackageDto): Promise<Package> {
    for (const name of ['name', 'key', 'metadata'] as const) if (dto[name] === null) throw ApiError.attribute(name, 'INVALID', 'must not be null');
    const changes: QueryDeepPartialEntity<Package> = {};
    if (dto.name !== undefined) changes.name = dto.name;
    if (dto.key !== undefined) changes.key = dto.key;
    if (dto.engine !== undefined) changes.engine = dto.engine;
    if (dto.metadata !== undefined) changes.metadata = dto.metadata as QueryDeepPartialEntity<Record<string, unknown>>;
    if (!Object.keys(changes).length) return this.db.manager.findOneOrFail(Package, { where: { id: pkg.id, accountId: pkg.accountId } });
    return this.db.transaction(async (m) => {
      try {
        await m.update(Package, { id: pkg.id, accountId: pkg.accountId }, changes);
      } catch (error) {
        keyTaken(error);
      }
      const changed = await m.findOneOrFail(Package, { where: { id: pkg.id, accountId: pkg.accountId } });
      await this.events.record(m, pkg.accountId, 'package.updated', toResource(PackageSerializer, changed));
      return changed;
    });
  }

  /**
   * Downloads of a package's versions and of each of their files, as the counters last wrote them
   * (a flush every few seconds): what `GET /packages/:id/analytics/downloads` shows, highest
   * version first. Admins and the product's token.
   */
  async downloads(bearer: Bearer, accountId: string, ref: string): Promise<PackageDownloads> {
    const pkg = await this.findVisible(bearer, accountId, ref);
    if (!PackagePolicy.canWrite(bearer, pkg.productId)) throw ApiError.forbidden('Package analytics are for admins and the product\'s token');
    const rows: Array<{ id: string; version: string; channel: string; status: string; downloads: string; files: Array<{ filename: string; downloads: number }> }> = await this.db.query(
      `SELECT r.id, r.version, r.channel, r.status, r.downloads,
              COALESCE((SELECT json_agg(json_build_object('filename', a.filename, 'downloads', a.downloads) ORDER BY a.filename)
                          FROM artifacts a WHERE a.release_id = r.id AND a.account_id = r.account_id), '[]') AS files
         FROM releases r
        WHERE r.account_id = $1 AND r.package_id = $2
        ORDER BY r.semver_major DESC, r.semver_minor DESC, r.semver_patch DESC, r.semver_is_release DESC, r.semver_pre_key DESC, r.created DESC`,
      [accountId, pkg.id],
    );
    const data = rows.map((r) => ({
      version: r.version,
      channel: r.channel,
      status: r.status === 'NOT_PUBLISHED' ? 'DRAFT' : r.status,
      downloads: Number(r.downloads),
      files: r.files.map((f) => ({ filename: f.filename, downloads: Number(f.downloads) })),
    }));
    return { data, meta: { package: pkg.key, downloads: data.reduce((n, v) => n + v.downloads, 0) } };
  }

  /**
   * The package goes; its releases stay, in no package. Refused (422 PACKAGE_HAS_RELEASES) when one
   * of its versions is also a version of the product outside any package: the two would clash.
   */
  async remove(pkg: Package): Promise<void> {
    try {
      await this.db.transaction(async (m) => {
        await m.delete(Package, { id: pkg.id, accountId: pkg.accountId });
        await this.events.record(m, pkg.accountId, 'package.deleted', toResource(PackageSerializer, pkg));
      });
    } catch (error) {
      if (uniqueViolation(error) !== 'releases_multi_version_unique') throw error;
      throw new ApiError(
        422,
        PackageErrorCode.PACKAGE_HAS_RELEASES,
        'A version of this package is also a version of the product outside any package: delete or move one of the two releases first',
      );
    }
  }
}
