import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository, SelectQueryBuilder } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm';
import type { Bearer } from '../access/bearer';
import { Entitlement } from '../entitlements/entitlement.entity';
import { EventsService } from '../events/events.service';
import { ApiError, ErrorCode, uniqueViolation } from '../jsonapi/errors';
import { toResource } from '../jsonapi/serializer';
import { isUuid } from '../jsonapi/ids';
import { paginate } from '../jsonapi/paginate';
import type { ListQuery } from '../jsonapi/query';
import type { PageResult } from '../jsonapi/serializer';
import { ProductsService } from '../products/products.service';
import { ProductDirectory, resolveProductRef } from '../products/product-ref';
import type { LicenseFilters } from './license-filters';
import { CreateLicenseDto, entitlementNotFound, UpdateLicenseDto } from './dto';
import { generateLicenseKey } from './license-key';
import { License, LicenseEntitlement } from './license.entity';
import { LicenseSerializer } from './license.serializer';

// nullable columns are coalesced so that keyset (cursor) pagination, which compares row tuples, never meets a NULL
export const LICENSE_SORT = { created: ['license.created'], name: ["coalesce(license.name, '')"], expiry: ["coalesce(license.expiry, 'infinity')"] };
export const LICENSE_ENTITLEMENT_SORT = { created: ['entitlement.created'], name: ['entitlement.name'], code: ['lower(entitlement.code)'] };


/**
 * Who may see or change licenses. Admins: all of the account. A product token: the licenses of its
 * product (and it may write them). A user: the licenses it owns (read only). A license: itself.
 */
export class LicensePolicy {
  static scope(bearer: Bearer, qb: SelectQueryBuilder<License>): SelectQueryBuilder<License> {
    switch (bearer.kind) {
      case 'admin':
        return qb;
      case 'product':
        return qb.andWhere('license.product_id = :bearerProductId', { bearerProductId: bearer.productId });
      case 'user':
        return qb.andWhere('license.user_id = :bearerUserId', { bearerUserId: bearer.userId });
      case 'license':
        return qb.andWhere('license.id = :bearerLicenseId', { bearerLicenseId: bearer.license.id });
      default:
        return qb.andWhere('false');
    }
  }

  /** May create licenses at all (for which product is checked separately). */
  static canCreate(bearer: Bearer): boolean {
    return bearer.kind === 'admin' || bearer.kind === 'product';
  }

  static canManage(bearer: Bearer, license: License): boolean {
    return bearer.kind === 'admin' || (bearer.kind === 'product' && bearer.productId === license.productId);
  }
}

function keyTaken(error: unknown): never {
  if (uniqueViolation(error) !== null) throw ApiError.attribute('key', 'TAKEN', 'is already taken');
  throw error;
}

function parseExpiry(expiry: string | null | undefined): Date | null {
  return expiry ? new Date(expiry) : null;
}

@Injectable()
export class LicensesService {
  constructor(
    @InjectRepository(License) private readonly licenses: Repository<License>,
    @InjectRepository(Entitlement) private readonly entitlements: Repository<Entitlement>,
    private readonly products: ProductsService,
    private readonly events: EventsService,
    private readonly directory: ProductDirectory,
  ) {}

  /** A license by its key inside an account (null: unknown). */
  findByKey(accountId: string, key: string): Promise<License | null> {
    return this.licenses.findOne({ where: { accountId, key } });
  }

  private base(accountId: string): SelectQueryBuilder<License> {
    return this.licenses.createQueryBuilder('license').where('license.account_id = :accountId', { accountId });
  }

  /** A license of the account by id, whoever asks (for other modules; no policy applied). */
  async findInAccount(accountId: string, id: string): Promise<License | null> {
    if (!isUuid(id)) return null;
    return this.licenses.findOne({ where: { id: id.toLowerCase(), accountId } });
  }

  async create(bearer: Bearer, accountId: string, dto: CreateLicenseDto): Promise<License> {
    if (!LicensePolicy.canCreate(bearer)) throw ApiError.forbidden();
    // the product by id or code (relationships.product.data.id)
    const product = dto.productId ? await this.products.findInAccount(accountId, await resolveProductRef(this.directory, accountId, dto.productId)) : null;
    // a product token may only create licenses of its own product; other products are not visible to it
    if (!product || (bearer.kind === 'product' && bearer.productId !== product.id)) {
      throw ApiError.relationship('product', 'NOT_FOUND', 'The product was not found');
    }
    if (dto.userId) await this.assertUser(accountId, dto.userId);
    const entitlementIds = [...new Set(dto.entitlementIds ?? [])];
    return this.licenses.manager.transaction(async (tx) => {
      if (entitlementIds.length) {
        const found = await this.existingEntitlements(tx, accountId, entitlementIds);
        const missing = entitlementIds.find((id) => !found.has(id));
        if (missing) {
          throw new ApiError(422, 'ENTITLEMENT_NOT_FOUND', `entitlement ${missing} was not found`, { pointer: '/data/relationships/entitlements' });
        }
      }
      const license = tx.create(License, {
        accountId,
        productId: product.id,
        userId: dto.userId ?? null,
        key: dto.key ?? generateLicenseKey(),
        name: dto.name ?? null,
        expiry: parseExpiry(dto.expiry),
        expirationStrategy: dto.expirationStrategy ?? 'RESTRICT_ACCESS',
        suspended: false,
        versionPin: dto.versionPin ?? null,
        metadata: dto.metadata ?? {},
      });
      try {
        await tx.insert(License, license as QueryDeepPartialEntity<License>);
      } catch (error) {
        keyTaken(error);
      }
      for (const entitlementId of entitlementIds) {
        await tx.insert(LicenseEntitlement, { accountId, licenseId: license.id, entitlementId });
      }
      const stored = await tx.findOneOrFail(License, { where: { id: license.id, accountId } });
      await this.events.record(tx, accountId, 'license.created', toResource(LicenseSerializer, stored));
      return stored;
    });
  }

  async list(bearer: Bearer, accountId: string, query: ListQuery, filters: LicenseFilters): Promise<PageResult<License>> {
    if (bearer.kind === 'anonymous' || bearer.kind === 'root') throw ApiError.forbidden();
    const qb = LicensePolicy.scope(bearer, this.base(accountId));
    if (filters.product) qb.andWhere('license.product_id = :productId', { productId: await resolveProductRef(this.directory, accountId, filters.product) });
    if (filters.userId) qb.andWhere('license.user_id = :userId', { userId: filters.userId });
    // the status as License.statusAt tells it, in SQL
    if (filters.status === 'SUSPENDED') qb.andWhere('license.suspended');
    if (filters.status === 'EXPIRED') qb.andWhere('NOT license.suspended AND license.expiry <= now()');
    if (filters.status === 'ACTIVE') qb.andWhere('NOT license.suspended AND (license.expiry IS NULL OR license.expiry > now())');
    if (filters.expiresBefore) qb.andWhere('license.expiry < :expiresBefore', { expiresBefore: filters.expiresBefore });
    if (filters.expiresAfter) qb.andWhere('license.expiry > :expiresAfter', { expiresAfter: filters.expiresAfter });
    return paginate(qb, query.page, query.sort, LICENSE_SORT);
  }

  /** The licenses a user owns. The user must be visible to the caller (an admin: any user of the account; a user: itself), else 404. */
  async listOfUser(bearer: Bearer, accountId: string, userId: string, query: ListQuery): Promise<PageResult<License>> {
    const visible =
      isUuid(userId) &&
      ((bearer.kind === 'user' && bearer.userId === userId.toLowerCase()) ||
        (bearer.kind === 'admin' &&
          (await this.licenses.manager.query('SELECT 1 FROM users WHERE id = $1 AND account_id = $2', [userId.toLowerCase(), accountId])).length > 0));
    if (!visible) throw ApiError.notFound('The user was not found');
    return this.list(bearer, accountId, query, { userId: userId.toLowerCase() });
  }

  /** By id, or by key (`GET /licenses/<key>`): the same policy decides. */
  async findVisible(bearer: Bearer, accountId: string, id: string): Promise<License> {
    const qb = isUuid(id) ? this.base(accountId).andWhere('license.id = :id', { id: id.toLowerCase() }) : this.base(accountId).andWhere('license.key = :key', { key: id });
    const license = id.length <= 255 ? await LicensePolicy.scope(bearer, qb).getOne() : null;
    if (!license) throw ApiError.notFound('The license was not found');
    return license;
  }

  /** Visible (else 404) and writable by the bearer (else 403): checked before the body is validated. */
  async findManageable(bearer: Bearer, accountId: string, id: string): Promise<License> {
    const license = await this.findVisible(bearer, accountId, id);
    if (!LicensePolicy.canManage(bearer, license)) throw ApiError.forbidden();
    return license;
  }

  /** `license` comes from findManageable. */
  async update(accountId: string, license: License, dto: UpdateLicenseDto): Promise<License> {
    for (const name of ['key', 'expirationStrategy', 'metadata'] as const) {
      if (dto[name] === null) throw ApiError.attribute(name, 'INVALID', 'must not be null');
    }
    if (dto.userId) await this.assertUser(accountId, dto.userId);
    const changes: QueryDeepPartialEntity<License> = {};
    if (dto.key !== undefined) changes.key = dto.key!;
    if (dto.name !== undefined) changes.name = dto.name;
    if (dto.expiry !== undefined) changes.expiry = parseExpiry(dto.expiry);
    if (dto.expirationStrategy !== undefined) changes.expirationStrategy = dto.expirationStrategy;
    if (dto.versionPin !== undefined) changes.versionPin = dto.versionPin;
    if (dto.metadata !== undefined) changes.metadata = dto.metadata as QueryDeepPartialEntity<Record<string, unknown>>;
    if (dto.userId !== undefined) changes.userId = dto.userId;
    return this.licenses.manager.transaction(async (tx) => {
      if (!Object.keys(changes).length) return tx.findOneOrFail(License, { where: { id: license.id, accountId } });
      try {
        await tx.update(License, { id: license.id, accountId }, changes);
      } catch (error) {
        keyTaken(error);
      }
      const changed = await tx.findOneOrFail(License, { where: { id: license.id, accountId } });
      await this.events.record(tx, accountId, 'license.updated', toResource(LicenseSerializer, changed));
      return changed;
    });
  }

  async remove(bearer: Bearer, accountId: string, id: string): Promise<void> {
    const license = await this.findManageable(bearer, accountId, id);
    await this.licenses.manager.transaction(async (tx) => {
      const gone = await tx.delete(License, { id: license.id, accountId });
      if (gone.affected) await this.events.record(tx, accountId, 'license.deleted', toResource(LicenseSerializer, license));
    });
  }

  /** suspend / reinstate: idempotent; a suspended key is refused at authentication (403 LICENSE_SUSPENDED). */
  async setSuspended(bearer: Bearer, accountId: string, id: string, suspended: boolean): Promise<License> {
    const license = await this.findManageable(bearer, accountId, id);
    return this.licenses.manager.transaction(async (tx) => {
      // only a change is an event (suspending a suspended license twice is one suspension)
      const changed = await tx.update(License, { id: license.id, accountId, suspended: !suspended }, { suspended });
      const current = await tx.findOneOrFail(License, { where: { id: license.id, accountId } });
      if (changed.affected) await this.events.record(tx, accountId, suspended ? 'license.suspended' : 'license.reinstated', toResource(LicenseSerializer, current));
      return current;
    });
  }

  async listEntitlements(bearer: Bearer, accountId: string, id: string, query: ListQuery): Promise<PageResult<Entitlement>> {
    const license = await this.findVisible(bearer, accountId, id);
    const qb = this.entitlements
      .createQueryBuilder('entitlement')
      .innerJoin(LicenseEntitlement, 'le', 'le.entitlement_id = entitlement.id AND le.account_id = entitlement.account_id')
      .where('entitlement.account_id = :accountId AND le.license_id = :licenseId', { accountId, licenseId: license.id });
    return paginate(qb, query.page, query.sort, LICENSE_ENTITLEMENT_SORT);
  }

  /** Attaches entitlements to a license from findManageable; unknown -> 422 ENTITLEMENT_NOT_FOUND, already attached -> 422 ENTITLEMENT_TAKEN. */
  async attachEntitlements(accountId: string, license: License, entitlementIds: string[]): Promise<Entitlement[]> {
    return this.licenses.manager.transaction(async (tx) => {
      const found = await this.existingEntitlements(tx, accountId, entitlementIds);
      entitlementIds.forEach((eid, i) => {
        if (!found.has(eid)) throw entitlementNotFound(i, eid);
      });
      const attached = await this.attachedEntitlementIds(tx, license.id, entitlementIds);
      const seen = new Set<string>();
      entitlementIds.forEach((eid, i) => {
        if (attached.has(eid) || seen.has(eid)) {
          throw new ApiError(422, ErrorCode.ENTITLEMENT_TAKEN, 'The entitlement is already attached to the license', { pointer: `/data/${i}/id` });
        }
        seen.add(eid);
      });
      try {
        for (const entitlementId of entitlementIds) await tx.insert(LicenseEntitlement, { accountId, licenseId: license.id, entitlementId });
      } catch (error) {
        // a concurrent attach of the same entitlement
        if (uniqueViolation(error) !== null) {
          throw new ApiError(422, ErrorCode.ENTITLEMENT_TAKEN, 'The entitlement is already attached to the license', { pointer: '/data' });
        }
        throw error;
      }
      return tx.getRepository(Entitlement).find({ where: entitlementIds.map((eid) => ({ id: eid, accountId })), order: { created: 'ASC' } });
    });
  }

  /** Detaches entitlements from a license from findManageable; one that is unknown or not attached -> 422 ENTITLEMENT_NOT_FOUND (nothing changes). */
  async detachEntitlements(accountId: string, license: License, entitlementIds: string[]): Promise<void> {
    await this.licenses.manager.transaction(async (tx) => {
      const attached = await this.attachedEntitlementIds(tx, license.id, entitlementIds);
      entitlementIds.forEach((eid, i) => {
        if (!attached.has(eid)) throw entitlementNotFound(i, eid);
      });
      await tx.query('DELETE FROM license_entitlements WHERE account_id = $1 AND license_id = $2 AND entitlement_id = ANY($3::uuid[])', [
        accountId,
        license.id,
        entitlementIds,
      ]);
    });
  }

  private async assertUser(accountId: string, userId: string): Promise<void> {
    const rows = await this.licenses.manager.query('SELECT 1 FROM users WHERE id = $1 AND account_id = $2', [userId, accountId]);
    if (!rows.length) throw ApiError.relationship('user', 'NOT_FOUND', 'The user was not found');
  }

  private async existingEntitlements(tx: EntityManager, accountId: string, ids: string[]): Promise<Set<string>> {
    const rows: Array<{ id: string }> = await tx.query('SELECT id FROM entitlements WHERE account_id = $1 AND id = ANY($2::uuid[])', [accountId, ids]);
    return new Set(rows.map((r) => r.id));
  }

  private async attachedEntitlementIds(tx: EntityManager, licenseId: string, ids: string[]): Promise<Set<string>> {
    const rows: Array<{ entitlement_id: string }> = await tx.query(
      'SELECT entitlement_id FROM license_entitlements WHERE license_id = $1 AND entitlement_id = ANY($2::uuid[])',
      [licenseId, ids],
    );
    return new Set(rows.map((r) => r.entitlement_id));
  }
}
