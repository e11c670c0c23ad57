import { Module } from '@nestjs/common';
import { WebhookDeliveryWorker } from './delivery.worker';
import { WebhookDeliveriesController, WebhookEndpointsController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

/** Webhook endpoints, the delivery log, and the worker that delivers (queue: src/queue). */
@Module({
  controllers: [WebhookEndpointsController, WebhookDeliveriesController],
  providers: [WebhooksService, WebhookDeliveryWorker],
  exports: [WebhookDeliveryWorker],
})
export class WebhooksModule {}
