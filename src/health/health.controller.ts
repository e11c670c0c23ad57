import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { NotRateLimited, Public } from '../access/decorators';
import { ApiError, ErrorCode } from '../jsonapi/errors';
import { ApiAnswer } from '../openapi/decorators';

/** Anything that can report whether it answers (the artifact storage registers one). */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}
export const READINESS_CHECKS = Symbol('READINESS_CHECKS');

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timed out')), ms).unref())]);
}

@Controller('health')
@Public()
@NotRateLimited()
export class HealthController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Optional() @Inject(READINESS_CHECKS) private readonly checks: ReadinessCheck[] = [],
  ) {}

  @ApiAnswer(200, 'The process lives: {"status":"ok"}', 'application/json')
  @Get()
  live() {
    return { status: 'ok' };
  }

  @ApiAnswer(200, 'The database and the storage answer', 'application/json')
  @ApiAnswer(503, 'The database or the storage does not answer (JSON:API error document)')
  @Get('ready')
  async ready() {
    try {
      await withTimeout(this.db.query('SELECT 1'), 2000);
    } catch {
      throw new ApiError(503, ErrorCode.DATABASE_UNAVAILABLE, 'The database does not answer', undefined, { 'Retry-After': '5' });
    }
    for (const c of this.checks ?? []) {
      try {
        await withTimeout(c.check(), 2000);
      } catch {
        throw new ApiError(503, ErrorCode.STORAGE_UNAVAILABLE, `The ${c.name} does not answer`, undefined, { 'Retry-After': '5' });
      }
    }
    return { status: 'ok', database: 'ok', ...Object.fromEntries((this.checks ?? []).map((c) => [c.name, 'ok'])) };
  }
}
