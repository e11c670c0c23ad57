import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { Bearer } from '../access/bearer';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config';
import { ApiError } from '../jsonapi/errors';
import { isUuid } from '../jsonapi/ids';
import { paginate } from '../jsonapi/paginate';
import { enumParam, queryParam } from '../jsonapi/query';
import type { ListQuery, Query } from '../jsonapi/query';
import type { PageResult } from '../jsonapi/serializer';
import { CreateWebhookEndpointDto, UpdateWebhookEndpointDto } from './dto';
import { DELIVERY_STATUSES, WebhookDelivery } from './webhook-delivery.entity';
import type { DeliveryStatus } from './webhook-delivery.entity';
import { WebhookEndpoint } from './webhook-endpoint.entity';
import { newWebhookSecret } from './webhook-signer';
import type { WebhookEndpointView } from './webhook.serializers';
import { checkWebhookUrl, WebhookUrlError } from './webhook-url';

export const ENDPOINT_SORT = { created: ['endpoint.created'] };
export const DELIVERY_SORT = { created: ['delivery.created'] };

export interface DeliveryFilters {
  endpoint?: string;
  status?: DeliveryStatus;
  event?: string;
}

export function parseDeliveryFilters(query: Query): DeliveryFilters {
  const endpoint = queryParam(query, 'endpoint');
  if (endpoint !== undefined && !isUuid(endpoint)) throw ApiError.invalidParameter('endpoint', 'must be a webhook endpoint id');
  return { endpoint: endpoint?.toLowerCase(), status: enumParam(query, 'status', DELIVERY_STATUSES), event: queryParam(query, 'event') };
}

/** Webhook endpoints and their deliveries: admins only, within their account. */
@Injectable()
export class WebhooksService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  static assertAdmin(bearer: Bearer): void {
    if (bearer.kind !== 'admin') throw ApiError.forbidden('Only an admin can manage webhooks');
  }

  private async checkUrl(url: string): Promise<void> {
    try {
      await checkWebhookUrl(url, this.config.events.allowPrivateUrls);
    } catch (error) {
      if (error instanceof WebhookUrlError) throw ApiError.attribute('url', 'INVALID', error.message);
      throw error;
    }
  }

  async create(accountId: string, dto: CreateWebhookEndpointDto): Promise<WebhookEndpointView> {
    await this.checkUrl(dto.url);
    const secret = newWebhookSecret();
    const rows: Array<{ id: string }> = await this.db.query(
      'INSERT INTO webhook_endpoints (account_id, url, events, enabled, secret) VALUES ($1, $2, $3, $4, $5) RETURNING id',
      [accountId, dto.url, JSON.stringify(dedupe(dto.events ?? ['*'])), dto.enabled ?? true, secret],
    );
    return Object.assign(await this.find(accountId, rows[0].id), { shownSecret: secret });
  }

  list(accountId: string, query: ListQuery): Promise<PageResult<WebhookEndpoint>> {
    const qb = this.db.createQueryBuilder(WebhookEndpoint, 'endpoint').where('endpoint.account_id = :accountId', { accountId });
    return paginate(qb, query.page, query.sort, ENDPOINT_SORT);
  }

  async find(accountId: string, id: string): Promise<WebhookEndpoint> {
    const endpoint = isUuid(id) ? await this.db.manager.findOne(WebhookEndpoint, { where: { id: id.toLowerCase(), accountId } }) : null;
    if (!endpoint) throw ApiError.notFound('The webhook endpoint was not found');
    return endpoint;
  }

  async update(accountId: string, endpoint: WebhookEndpoint, dto: UpdateWebhookEndpointDto): Promise<WebhookEndpoint> {
    const changes: Partial<WebhookEndpoint> = {};
    for (const name of ['url', 'events', 'enabled'] as const) {
      if (dto[name] === null) throw ApiError.attribute(name, 'INVALID', 'must not be null');
    }
    if (dto.url !== undefined) {
      await this.checkUrl(dto.url);
      changes.url = dto.url;
    }
    if (dto.events !== undefined) changes.events = dedupe(dto.events);
    if (dto.enabled !== undefined) changes.enabled = dto.enabled;
    if (Object.keys(changes).length) {
      await this.db.transaction(async (m) => {
        if (changes.url !== undefined && changes.url !== endpoint.url) await this.closeCircuit(m, accountId, endpoint.id);
        await m.update(WebhookEndpoint, { id: endpoint.id, accountId }, changes);
      });
    }
    return this.find(accountId, endpoint.id);
  }

  /**
   * Another receiver: the failures of the old one say nothing about it. The circuit closes, and
   * the deliveries it held back for its probe are due now (those waiting for their own retry
   * time keep it).
   */
  private async closeCircuit(m: EntityManager, accountId: string, endpointId: string): Promise<void> {
    // the endpoint's row first, as the delivery workers lock it
    await m.query('SELECT 1 FROM webhook_endpoints WHERE id = $1 AND account_id = $2 FOR NO KEY UPDATE', [endpointId, accountId]);
    await m.query(
      `UPDATE webhook_deliveries SET next_attempt = clock_timestamp(), updated = clock_timestamp()
        WHERE endpoint_id = $1 AND account_id = $2 AND status = 'PENDING'
          AND next_attempt = (SELECT next_probe FROM webhook_endpoints WHERE id = $1 AND circuit <> 'closed')`,
      [endpointId, accountId],
    );
    await m.query(`UPDATE webhook_endpoints SET circuit = 'closed', consecutive_failures = 0, next_probe = NULL WHERE id = $1 AND account_id = $2`, [endpointId, accountId]);
  }

  async remove(accountId: string, endpoint: WebhookEndpoint): Promise<void> {
    await this.db.manager.delete(WebhookEndpoint, { id: endpoint.id, accountId });
  }

  /** A new secret (shown in this answer only); deliveries from now on are signed with it. */
  async rotateSecret(accountId: string, endpoint: WebhookEndpoint): Promise<WebhookEndpointView> {
    const secret = newWebhookSecret();
    await this.db.query('UPDATE webhook_endpoints SET secret = $1, updated = now() WHERE id = $2 AND account_id = $3', [secret, endpoint.id, accountId]);
    return Object.assign(await this.find(accountId, endpoint.id), { shownSecret: secret });
  }

  listDeliveries(accountId: string, query: ListQuery, filters: DeliveryFilters): Promise<PageResult<WebhookDelivery>> {
    const qb = this.db.createQueryBuilder(WebhookDelivery, 'delivery').where('delivery.account_id = :accountId', { accountId });
    if (filters.endpoint) qb.andWhere('delivery.endpoint_id = :endpointId', { endpointId: filters.endpoint });
    if (filters.status) qb.andWhere('delivery.status = :status', { status: filters.status });
    if (filters.event !== undefined) qb.andWhere('delivery.event = :event', { event: filters.event });
    return paginate(qb, query.page, query.sort, DELIVERY_SORT);
  }

  async findDelivery(accountId: string, id: string): Promise<WebhookDelivery> {
    const delivery = isUuid(id) ? await this.db.manager.findOne(WebhookDelivery, { where: { id: id.toLowerCase(), accountId } }) : null;
    if (!delivery) throw ApiError.notFound('The webhook delivery was not found');
    return delivery;
  }

  /**
   * Attempts the delivery again now, whatever its status. If the endpoint's circuit is open, this
   * delivery is its probe, now. If this attempt fails, the backoff goes on from where the delivery
   * was, or it fails. (A delivery being attempted right now keeps that attempt's outcome.)
   */
  async retry(accountId: string, id: string): Promise<WebhookDelivery> {
    const delivery = await this.findDelivery(accountId, id);
    await this.db.transaction(async (m) => {
      // the endpoint's row first: the delivery workers lock the endpoint, then its deliveries
      await m.query(
        `UPDATE webhook_endpoints SET next_probe = CASE WHEN circuit = 'closed' THEN next_probe ELSE clock_timestamp() END WHERE id = $1 AND account_id = $2`,
        [delivery.endpointId, accountId],
      );
      // (TypeORM answers an UPDATE with [rows, affected])
      const [, affected]: [unknown, number] = await m.query(
        `UPDATE webhook_deliveries SET status = 'PENDING', next_attempt = clock_timestamp(), updated = clock_timestamp()
          WHERE id = $1 AND account_id = $2`,
        [delivery.id, accountId],
      );
      if (!affected) throw ApiError.notFound('The webhook delivery was not found');
    });
    return this.findDelivery(accountId, delivery.id);
  }
}

function dedupe(events: string[]): string[] {
  return events.includes('*') ? ['*'] : [...new Set(events)];
}
