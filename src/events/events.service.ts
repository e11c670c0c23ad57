import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, Repository } from 'typeorm';
import type { Bearer } from '../access/bearer';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config';
import { ApiError } from '../jsonapi/errors';
import { isUuid } from '../jsonapi/ids';
import { paginate } from '../jsonapi/paginate';
import { queryParam } from '../jsonapi/query';
import type { ListQuery, Query } from '../jsonapi/query';
import type { PageResult, ResourceObject } from '../jsonapi/serializer';
import { JobQueue, QUEUES } from '../queue/job-queue';
import { EventRecord } from './event.entity';
import { EVENT_NAMES, isEventName } from './event-names';
import type { EventName } from './event-names';

export const EVENT_SORT = { created: ['event.created'] };

/** One event to record: `resource` is the changed resource as the API shows it. */
export interface NewEvent {
  accountId: string;
  event: EventName;
  resource: Pick<ResourceObject, 'type' | 'id'>;
  /** What receivers and the event list get; the resource itself when absent. */
  payload?: object;
  /** The payload already as JSON (a batch that shares parts between events serializes them once). */
  payloadJson?: string;
  /**
   * A large part of the payload that many events of a batch share (a counted use's release), as
   * JSON: sent once per batch and put into each payload under `name` by PostgreSQL, so that a
   * flush of many uses neither sends nor parses the same release once per event.
   */
  shared?: { name: string; json: string };
}

export interface EventFilters {
  types?: string[];
  resource?: string;
  since?: Date;
}

/** `type` (comma-separated event names), `resource` (a resource id), `since` (an ISO 8601 time). */
export function parseEventFilters(query: Query): EventFilters {
  const filters: EventFilters = {};
  const type = queryParam(query, 'type');
  if (type !== undefined) {
    filters.types = type.split(',').map((t) => t.trim());
    const unknown = filters.types.find((t) => !isEventName(t));
    if (unknown !== undefined) throw ApiError.invalidParameter('type', `unknown event "${unknown}"; events: ${EVENT_NAMES.join(', ')}`);
  }
  const resource = queryParam(query, 'resource');
  if (resource !== undefined) {
    if (!isUuid(resource)) throw ApiError.invalidParameter('resource', 'must be a resource id');
    filters.resource = resource.toLowerCase();
  }
  const since = queryParam(query, 'since');
  if (since !== undefined) {
    const date = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(since) ? new Date(since) : new Date(NaN);
    if (Number.isNaN(date.getTime())) throw ApiError.invalidParameter('since', 'must be an ISO 8601 date or time, e.g. 2026-01-31T00:00:00Z');
    filters.since = date;
  }
  return filters;
}

/** Rows deleted per statement when pruning (short statements, short locks). */
const PRUNE_BATCH = 5000;

/**
 * The event log. `record` is called by the service that makes a change, inside that change's
 * transaction: the event row and a delivery row per subscribed webhook endpoint (the outbox the
 * delivery workers read) are written with it, so both exist exactly when the change committed.
 */
@Injectable()
export class EventsService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Events');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(EventRecord) private readonly events: Repository<EventRecord>,
    private readonly queue: JobQueue,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.queue.workersEnabled) return;
    await this.queue.work(QUEUES.eventsPrune, 1, () => this.prune().then(() => undefined));
    await this.queue.schedule(QUEUES.eventsPrune, '23 * * * *');
    await this.queue.send(QUEUES.eventsPrune);
  }

  /** Records one event in the transaction `manager` runs. */
  record(manager: EntityManager, accountId: string, event: EventName, resource: Pick<ResourceObject, 'type' | 'id'>, payload?: object): Promise<void> {
    return this.recordMany(manager, [{ accountId, event, resource, payload }]);
  }

  /**
   * Records events and their webhook deliveries (one statement for all). The payloads travel as
   * one JSON array (not a jsonb[] literal, whose every quote would be escaped and parsed again),
   * each shared part once (NewEvent.shared).
   */
  async recordMany(manager: EntityManager, events: NewEvent[]): Promise<void> {
    if (!events.length) return;
    if (!manager.queryRunner?.isTransactionActive) throw new Error('events are recorded inside the transaction of their change');
    const shared = new Map<string, number>();
    const sharedAt = events.map((e) => {
      if (!e.shared) return null;
      let at = shared.get(e.shared.json);
      if (at === undefined) shared.set(e.shared.json, (at = shared.size + 1));
      return at;
    });
    // a delivery to an endpoint whose circuit is open waits for its probe (src/webhooks/circuit.ts);
    // the delivery workers find the rows themselves (src/webhooks/delivery.worker.ts)
    await manager.query(
      `WITH s AS MATERIALIZED (SELECT s.part, s.n FROM jsonb_array_elements($8::jsonb) WITH ORDINALITY AS s(part, n)),
       e AS (
         INSERT INTO events (account_id, event, resource_type, resource_id, payload)
         SELECT u.account_id, u.event, u.resource_type, u.resource_id, CASE WHEN s.part IS NULL THEN p.payload ELSE jsonb_build_object(u.part_name, s.part) || p.payload END
           FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::uuid[], $5::int[], $6::text[]) WITH ORDINALITY AS u(account_id, event, resource_type, resource_id, part_at, part_name, n)
           JOIN jsonb_array_elements($7::jsonb) WITH ORDINALITY AS p(payload, n) ON p.n = u.n
           LEFT JOIN s ON s.n = u.part_at
          ORDER BY u.n
         RETURNING id, account_id, event)
       INSERT INTO webhook_deliveries (account_id, endpoint_id, event_id, event, next_attempt)
       SELECT e.account_id, w.id, e.id, e.event, greatest(clock_timestamp(), CASE WHEN w.circuit = 'open' THEN w.next_probe END)
         FROM e JOIN webhook_endpoints w ON w.account_id = e.account_id AND w.enabled AND (w.events ? '*' OR w.events ? e.event)`,
      [
        events.map((e) => e.accountId),
        events.map((e) => e.event),
        events.map((e) => e.resource.type),
        events.map((e) => e.resource.id),
        sharedAt,
        events.map((e) => e.shared?.name ?? null),
        `[${events.map((e) => e.payloadJson ?? JSON.stringify(e.payload ?? e.resource)).join(',')}]`,
        `[${[...shared.keys()].join(',')}]`,
      ],
    );
  }

  list(bearer: Bearer, accountId: string, query: ListQuery, filters: EventFilters): Promise<PageResult<EventRecord>> {
    if (bearer.kind !== 'admin') throw ApiError.forbidden('Only an admin can read the event log');
    const qb = this.events.createQueryBuilder('event').where('event.account_id = :accountId', { accountId });
    if (filters.types) qb.andWhere('event.event IN (:...types)', { types: filters.types });
    if (filters.resource) qb.andWhere('event.resource_id = :resourceId', { resourceId: filters.resource });
    if (filters.since) qb.andWhere('event.created >= :since', { since: filters.since });
    return paginate(qb, query.page, query.sort, EVENT_SORT);
  }

  async findOne(bearer: Bearer, accountId: string, id: string): Promise<EventRecord> {
    if (bearer.kind !== 'admin') throw ApiError.forbidden('Only an admin can read the event log');
    const event = isUuid(id) ? await this.events.findOne({ where: { id: id.toLowerCase(), accountId } }) : null;
    if (!event) throw ApiError.notFound('The event was not found');
    return event;
  }

  /** Deletes events older than EVENTS_RETENTION_DAYS (their deliveries go with them); returns how many. */
  async prune(): Promise<number> {
    let total = 0;
    for (;;) {
      const rows: Array<{ n: number }> = await this.db.query(
        `WITH gone AS (
           DELETE FROM events WHERE id IN (
             SELECT id FROM events WHERE created < now() - make_interval(days => $1) LIMIT ${PRUNE_BATCH})
           RETURNING 1)
         SELECT count(*)::int AS n FROM gone`,
        [this.config.events.retentionDays],
      );
      total += rows[0].n;
      if (rows[0].n < PRUNE_BATCH) break;
    }
    // the analytics keep a year at most (the longest window they answer)
    await this.db.query(`DELETE FROM analytics_daily WHERE day < (now() AT TIME ZONE 'UTC')::date - 400`);
    // (an install not seen for that long leaves the buckets with its row)
    await this.db.query(`DELETE FROM analytics_installs WHERE last_seen < now() - interval '400 days'`);
    await this.db.query(`DELETE FROM analytics_last_seen WHERE day < (now() AT TIME ZONE 'UTC')::date - 400 OR installs = 0`);
    if (total) this.logger.log(`pruned ${total} events older than ${this.config.events.retentionDays} days`);
    return total;
  }
}
