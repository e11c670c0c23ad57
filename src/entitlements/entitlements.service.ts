import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm';
import type { Bearer } from '../access/bearer';
import { ApiError, uniqueViolation } from '../jsonapi/errors';
import { isUuid } from '../jsonapi/ids';
import { paginate } from '../jsonapi/paginate';
import type { ListQuery } from '../jsonapi/query';
import type { PageResult } from '../jsonapi/serializer';
import { CreateEntitlementDto, UpdateEntitlementDto } from './dto';
import { Entitlement } from './entitlement.entity';

export const ENTITLEMENT_SORT = { created: ['entitlement.created'], name: ['entitlement.name'], code: ['lower(entitlement.code)'] };

/** Entitlements are the vendor's catalogue: only admins read or change them (licenses see theirs via /licenses/:id/entitlements). */
export class EntitlementPolicy {
  static canRead(bearer: Bearer): boolean {
    return bearer.kind === 'admin';
  }
  static canManage(bearer: Bearer): boolean {
    return bearer.kind === 'admin';
  }
}

function codeTaken(error: unknown): never {
  if (uniqueViolation(error) !== null) throw ApiError.attribute('code', 'TAKEN', 'is already taken');
  throw error;
}

@Injectable()
export class EntitlementsService {
  constructor(@InjectRepository(Entitlement) private readonly entitlements: Repository<Entitlement>) {}

  /** An entitlement of the account by id, whoever asks (for other modules; no policy applied). */
  async findInAccount(accountId: string, id: string): Promise<Entitlement | null> {
    if (!isUuid(id)) return null;
    return this.entitlements.findOne({ where: { id: id.toLowerCase(), accountId } });
  }

  async create(bearer: Bearer, accountId: string, dto: CreateEntitlementDto): Promise<Entitlement> {
    if (!EntitlementPolicy.canManage(bearer)) throw ApiError.forbidden();
    const entitlement = this.entitlements.create({ accountId, name: dto.name, code: dto.code, metadata: dto.metadata ?? {} });
    try {
      await this.entitlements.insert(entitlement as QueryDeepPartialEntity<Entitlement>);
    } catch (error) {
      codeTaken(error);
    }
    return this.entitlements.findOneOrFail({ where: { id: entitlement.id, accountId } });
  }

  list(bearer: Bearer, accountId: string, query: ListQuery): Promise<PageResult<Entitlement>> {
    if (!EntitlementPolicy.canRead(bearer)) throw ApiError.forbidden();
    const qb = this.entitlements.createQueryBuilder('entitlement').where('entitlement.account_id = :accountId', { accountId });
    return paginate(qb, query.page, query.sort, ENTITLEMENT_SORT);
  }

  async findVisible(bearer: Bearer, accountId: string, id: string): Promise<Entitlement> {
    const entitlement = EntitlementPolicy.canRead(bearer) ? await this.findInAccount(accountId, id) : null;
    if (!entitlement) throw ApiError.notFound('The entitlement was not found');
    return entitlement;
  }

  /** Visible (else 404) and writable by the bearer (else 403): checked before the body is validated. */
  async findManageable(bearer: Bearer, accountId: string, id: string): Promise<Entitlement> {
    const entitlement = await this.findVisible(bearer, accountId, id);
    if (!EntitlementPolicy.canManage(bearer)) throw ApiError.forbidden();
    return entitlement;
  }

  /** `entitlement` comes from findManageable. */
  async update(accountId: string, entitlement: Entitlement, dto: UpdateEntitlementDto): Promise<Entitlement> {
    for (const name of ['name', 'code', 'metadata'] as const) {
      if (dto[name] === null) throw ApiError.attribute(name, 'INVALID', 'must not be null');
    }
    const changes: QueryDeepPartialEntity<Entitlement> = {};
    if (dto.name !== undefined) changes.name = dto.name;
    if (dto.code !== undefined) changes.code = dto.code;
    if (dto.metadata !== undefined) changes.metadata = dto.metadata as QueryDeepPartialEntity<Record<string, unknown>>;
    try {
      if (Object.keys(changes).length) await this.entitlements.update({ id: entitlement.id, accountId }, changes);
    } catch (error) {
      codeTaken(error);
    }
    return this.entitlements.findOneOrFail({ where: { id: entitlement.id, accountId } });
  }

  /** Deleting an entitlement detaches it from licenses and drops the release constraints that named it. */
  async remove(bearer: Bearer, accountId: string, id: string): Promise<void> {
    const entitlement = await this.findManageable(bearer, accountId, id);
    await this.entitlements.delete({ id: entitlement.id, accountId });
  }
}
