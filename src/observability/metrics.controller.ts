import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ChecksOwnCredential } from '../access/decorators';
import { safeEqual } from '../access/secrets';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config';
import { ApiError, ErrorCode } from '../jsonapi/errors';
import { Metrics } from './metrics';
import { ApiAnswer } from '../openapi/decorators';

/** `GET /metrics`: Prometheus text format; with METRICS_TOKEN set, only for `Bearer <METRICS_TOKEN>`. */
@Controller('metrics')
@ChecksOwnCredential()
export class MetricsController {
  constructor(
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @ApiAnswer(200, 'Prometheus text format', 'text/plain', { type: 'string' })
  @ApiAnswer(401, 'METRICS_TOKEN is set and was not sent (JSON:API error document)')
  @Get()
  async scrape(@Req() req: Request, @Res() res: Response): Promise<void> {
    const token = this.config.metricsToken;
    if (token !== undefined) {
      const header = req.headers.authorization;
      if (!header) throw new ApiError(401, ErrorCode.TOKEN_MISSING, 'METRICS_TOKEN is set: send it as Authorization: Bearer <METRICS_TOKEN>', { header: 'Authorization' });
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      if (!m || !safeEqual(m[1], token)) throw new ApiError(401, ErrorCode.TOKEN_INVALID, 'The metrics token is invalid', { header: 'Authorization' });
    }
    res.setHeader('Content-Type', this.metrics.contentType());
    res.setHeader('Cache-Control', 'no-store');
    res.send(await this.metrics.render());
  }
}
