import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, In, Repository } from 'typeorm';
import type { Bearer } from '../access/bearer';
import { Entitlement } from '../entitlements/entitlement.entity';
import { EntitlementSerializer } from '../entitlements/entitlement.serializer';
import { EventsService } from '../events/events.service';
import { ApiError } from '../jsonapi/errors';
import { isUuid } from '../jsonapi/ids';
import { paginate } from '../jsonapi/paginate';
import type { ListQuery } from '../jsonapi/query';
import type { Fieldsets } from '../jsonapi/query';
import { toResource } from '../jsonapi/serializer';
import type { PageResult, ResourceObject } from '../jsonapi/serializer';
import { ReleasesService } from '../releases/releases.service';
import { ConstraintSerializer } from '../releases/constraint.serializer';
import { ReleaseConstraint } from '../releases/release-constraint.entity';

export const CONSTRAINT_SORT = { created: ['constraint.created'] };

/**
 * A release's constraints (required entitlements). Whoever sees the release sees its constraints;
 * writes are for the admin or the release's product token (ReleaseVisibilityPolicy.canWrite).
 */
@Injectable()
export class ConstraintsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(ReleaseConstraint) private readonly constraints: Repository<ReleaseConstraint>,
    @InjectRepository(Entitlement) private readonly entitlements: Repository<Entitlement>,
    private readonly releases: ReleasesService,
    private readonly events: EventsService,
  ) {}

  async list(bearer: Bearer, accountId: string, releaseId: string, query: ListQuery): Promise<PageResult<ReleaseConstraint>> {
    const release = await this.releases.findVisible(bearer, accountId, releaseId);
    const qb = this.constraints
      .createQueryBuilder('constraint')
      .where('constraint.account_id = :accountId AND constraint.release_id = :releaseId', { accountId, releaseId: release.id });
    return paginate(qb, query.page, query.sort, CONSTRAINT_SORT);
  }

  async findVisible(bearer: Bearer, accountId: string, releaseId: string, id: string): Promise<ReleaseConstraint> {
    const release = await this.releases.findVisible(bearer, accountId, releaseId);
    const constraint = isUuid(id) ? await this.constraints.findOne({ where: { id: id.toLowerCase(), releaseId: release.id, accountId } }) : null;
    if (!constraint) throw ApiError.notFound('The constraint was not found');
    return constraint;
  }

  /** Checks that the bearer may change the release's constraints (404 hidden, 403 not writable). */
  async assertWritable(bearer: Bearer, accountId: string, releaseId: string): Promise<string> {
    return (await this.releases.findWritable(bearer, accountId, releaseId)).id;
  }

  /**
   * Attaches entitlements as constraints, all or nothing: an unknown entitlement is 422
   * ENTITLEMENT_NOT_FOUND, one already attached (or twice in the request) 422 ENTITLEMENT_TAKEN.
   */
  async attach(accountId: string, releaseId: string, entitlementIds: string[]): Promise<ReleaseConstraint[]> {
    const pointer = (i: number) => ({ pointer: `/data/${i}/relationships/entitlement` });
    const known = await this.entitlements.find({ where: { id: In(entitlementIds), accountId }, select: { id: true } });
    const knownIds = new Set(known.map((e) => e.id));
    entitlementIds.forEach((id, i) => {
      if (!knownIds.has(id)) throw new ApiError(422, 'ENTITLEMENT_NOT_FOUND', `entitlements ${id} was not found`, pointer(i));
      const first = entitlementIds.indexOf(id);
      if (first !== i) throw new ApiError(422, 'ENTITLEMENT_TAKEN', 'is given twice', pointer(i));
    });
    return this.db.transaction(async (m) => {
      // ON CONFLICT DO NOTHING keeps the transaction usable and tells which one was taken, even under a race
      const rows: Array<{ id: string; entitlement_id: string }> = await m.query(
        `INSERT INTO release_constraints (account_id, release_id, entitlement_id)
         SELECT $1, $2, e FROM unnest($3::uuid[]) AS e
         ON CONFLICT ON CONSTRAINT release_constraints_unique DO NOTHING
         RETURNING id, entitlement_id`,
        [accountId, releaseId, entitlementIds],
      );
      if (rows.length !== entitlementIds.length) {
        const inserted = new Set(rows.map((r) => r.entitlement_id));
        const i = entitlementIds.findIndex((id) => !inserted.has(id));
        throw new ApiError(422, 'ENTITLEMENT_TAKEN', 'is already a constraint of this release', pointer(i));
      }
      const attached = await m.find(ReleaseConstraint, { where: { id: In(rows.map((r) => r.id)), accountId }, order: { created: 'ASC', id: 'ASC' } });
      await this.events.record(m, accountId, 'release.constraints.attached', { type: 'releases', id: releaseId }, {
        release: { type: 'releases', id: releaseId },
        constraints: attached.map((c) => toResource(ConstraintSerializer, c)),
      });
      return attached;
    });
  }

  /** Detaches constraints by id, all or nothing: an id that is not a constraint of this release is 422. */
  async detach(accountId: string, releaseId: string, ids: string[]): Promise<void> {
    await this.db.transaction(async (m) => {
      const found = await m.find(ReleaseConstraint, { where: { id: In(ids), releaseId, accountId } });
      const foundIds = new Set(found.map((c) => c.id));
      const i = ids.findIndex((id) => !foundIds.has(id));
      if (i >= 0) throw new ApiError(422, 'CONSTRAINT_NOT_FOUND', `constraints ${ids[i]} was not found on this release`, { pointer: `/data/${i}/id` });
      await m.delete(ReleaseConstraint, { id: In(ids), releaseId, accountId });
      await this.events.record(m, accountId, 'release.constraints.detached', { type: 'releases', id: releaseId }, {
        release: { type: 'releases', id: releaseId },
        constraints: found.map((c) => toResource(ConstraintSerializer, c)),
      });
    });
  }

  /** `include=entitlement` for a page of constraints. */
  async includedEntitlements(accountId: string, constraints: ReleaseConstraint[], fields?: Fieldsets): Promise<ResourceObject[]> {
    const ids = [...new Set(constraints.map((c) => c.entitlementId))];
    if (!ids.length) return [];
    const entitlements = await this.entitlements.find({ where: { id: In(ids), accountId } });
    return entitlements.map((e) => toResource(EntitlementSerializer, e, fields));
  }
}
