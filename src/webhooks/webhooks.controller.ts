import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { Bearer } from '../access/bearer';
import { CurrentAccount, CurrentBearer } from '../access/decorators';
import type { AccountRef } from '../access/decorators';
import { JsonApiBodyPipe } from '../jsonapi/body.pipe';
import { parseListQuery } from '../jsonapi/query';
import type { Query as Q } from '../jsonapi/query';
import { created, listDocument, singleDocument } from '../jsonapi/serializer';
import { ApiDocument, ApiJsonApiBody, ApiListQuery, ApiNoContent, ApiQueryParams } from '../openapi/decorators';
import { CreateWebhookEndpointDto, UpdateWebhookEndpointDto, WEBHOOK_ENDPOINT_ATTRIBUTES } from './dto';
import { WebhookDeliverySerializer, WebhookEndpointSerializer, withoutSecret } from './webhook.serializers';
import { DELIVERY_SORT, ENDPOINT_SORT, parseDeliveryFilters, WebhooksService } from './webhooks.service';

const ENDPOINTS = { sort: Object.keys(ENDPOINT_SORT), fields: { 'webhook-endpoints': [...WebhookEndpointSerializer.attributeNames, 'account', 'deliveries'] } };
const DELIVERIES = { sort: Object.keys(DELIVERY_SORT), fields: { 'webhook-deliveries': [...WebhookDeliverySerializer.attributeNames, 'account', 'endpoint', 'eventRecord'] } };
// bodies are validated after the permission check: a caller who may not write gets 403, not 422
const createBody = new JsonApiBodyPipe({ type: 'webhook-endpoints', dto: CreateWebhookEndpointDto, attributes: WEBHOOK_ENDPOINT_ATTRIBUTES });
const updateBody = new JsonApiBodyPipe({ type: 'webhook-endpoints', dto: UpdateWebhookEndpointDto, attributes: WEBHOOK_ENDPOINT_ATTRIBUTES, partial: true });

/** Webhook endpoints (admins): where events are delivered, and the secret they are signed with. */
@Controller('v1/accounts/:account/webhook-endpoints')
export class WebhookEndpointsController {
  constructor(private readonly webhooks: WebhooksService) {}

  @ApiJsonApiBody(createBody)
  @ApiDocument(WebhookEndpointSerializer, 'created')
  @Post()
  async create(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Body() body: unknown, @Res({ passthrough: true }) res: Response) {
    WebhooksService.assertAdmin(bearer);
    const dto = await createBody.transform(body);
    res.setHeader('Cache-Control', 'no-store');
    return created(res, singleDocument(WebhookEndpointSerializer, await this.webhooks.create(account.id, dto)));
  }

  @ApiDocument(WebhookEndpointSerializer, 'list')
  @ApiListQuery({ sort: ENDPOINTS.sort })
  @Get()
  async list(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Query() query: Q, @Res({ passthrough: true }) res: Response) {
    WebhooksService.assertAdmin(bearer);
    const q = parseListQuery(query, ENDPOINTS);
    const page = await this.webhooks.list(account.id, q);
    return withoutSecret(listDocument(WebhookEndpointSerializer, page, { path: res.req.path, query, page: q.page, fields: q.fields }));
  }

  @ApiDocument(WebhookEndpointSerializer, 'single')
  @Get(':id')
  async show(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string) {
    WebhooksService.assertAdmin(bearer);
    return withoutSecret(singleDocument(WebhookEndpointSerializer, await this.webhooks.find(account.id, id)));
  }

  @ApiJsonApiBody(updateBody)
  @ApiDocument(WebhookEndpointSerializer, 'single')
  @Patch(':id')
  async update(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string, @Body() body: unknown) {
    WebhooksService.assertAdmin(bearer);
    const endpoint = await this.webhooks.find(account.id, id);
    const dto = await updateBody.transformFor(body, endpoint.id);
    return withoutSecret(singleDocument(WebhookEndpointSerializer, await this.webhooks.update(account.id, endpoint, dto)));
  }

  @ApiNoContent()
  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string): Promise<void> {
    WebhooksService.assertAdmin(bearer);
    await this.webhooks.remove(account.id, await this.webhooks.find(account.id, id));
  }

  /** A new signing secret, shown in this answer only. */
  @ApiDocument(WebhookEndpointSerializer, 'single')
  @Post(':id/actions/rotate-secret')
  @HttpCode(200)
  async rotateSecret(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string, @Res({ passthrough: true }) res: Response) {
    WebhooksService.assertAdmin(bearer);
    const endpoint = await this.webhooks.find(account.id, id);
    res.setHeader('Cache-Control', 'no-store');
    return singleDocument(WebhookEndpointSerializer, await this.webhooks.rotateSecret(account.id, endpoint));
  }

  @ApiDocument(WebhookDeliverySerializer, 'list')
  @ApiListQuery({ sort: DELIVERIES.sort })
  @ApiQueryParams({ status: 'PENDING, DELIVERED or FAILED', event: 'An event name' })
  @Get(':id/webhook-deliveries')
  async deliveries(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string, @Query() query: Q, @Res({ passthrough: true }) res: Response) {
    WebhooksService.assertAdmin(bearer);
    const endpoint = await this.webhooks.find(account.id, id);
    const q = parseListQuery(query, DELIVERIES);
    const page = await this.webhooks.listDeliveries(account.id, q, { ...parseDeliveryFilters(query), endpoint: endpoint.id });
    return listDocument(WebhookDeliverySerializer, page, { path: res.req.path, query, page: q.page, fields: q.fields });
  }
}

/** The delivery log (admins, read-only) and manual retries. */
@Controller('v1/accounts/:account/webhook-deliveries')
export class WebhookDeliveriesController {
  constructor(private readonly webhooks: WebhooksService) {}

  @ApiDocument(WebhookDeliverySerializer, 'list')
  @ApiListQuery({ sort: DELIVERIES.sort })
  @ApiQueryParams({ endpoint: 'A webhook endpoint id', status: 'PENDING, DELIVERED or FAILED', event: 'An event name' })
  @Get()
  async list(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Query() query: Q, @Res({ passthrough: true }) res: Response) {
    WebhooksService.assertAdmin(bearer);
    const q = parseListQuery(query, DELIVERIES);
    const page = await this.webhooks.listDeliveries(account.id, q, parseDeliveryFilters(query));
    return listDocument(WebhookDeliverySerializer, page, { path: res.req.path, query, page: q.page, fields: q.fields });
  }

  @ApiDocument(WebhookDeliverySerializer, 'single')
  @Get(':id')
  async show(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string) {
    WebhooksService.assertAdmin(bearer);
    return singleDocument(WebhookDeliverySerializer, await this.webhooks.findDelivery(account.id, id));
  }

  /** Attempts the delivery again now. */
  @ApiDocument(WebhookDeliverySerializer, 'single')
  @Post(':id/actions/retry')
  @HttpCode(200)
  async retry(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('id') id: string) {
    WebhooksService.assertAdmin(bearer);
    return singleDocument(WebhookDeliverySerializer, await this.webhooks.retry(account.id, id));
  }
}
