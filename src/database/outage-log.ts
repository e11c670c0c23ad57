import { Logger } from '@nestjs/common';

/**
 * Logs a database outage once when it starts and once when it ends (docs/operations.md, "Limits and hardening"), however many
 * requests fail in between. After the first failure, `probe` (a `SELECT 1`) is tried every
 * second until it succeeds.
 */
export class DatabaseOutageLog {
  private readonly logger = new Logger('Database');
  private down = false;
  private timer?: NodeJS.Timeout;
  private since = 0;

  constructor(
    private readonly probe: () => Promise<unknown>,
    private readonly probeEveryMs = 1000,
  ) {}

  get isDown(): boolean {
    return this.down;
  }

  /** A request failed because the database did not answer. */
  failed(error: unknown): void {
    if (this.down) return;
    this.down = true;
    this.since = Date.now();
    this.logger.warn(`database unavailable (${describe(error)}): answering 503 until it is back`);
    this.schedule();
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.probe().then(
        () => {
          this.down = false;
          this.timer = undefined;
          this.logger.log(`database available again after ${Math.round((Date.now() - this.since) / 1000)} s`);
        },
        () => this.schedule(),
      );
    }, this.probeEveryMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** An error's code or first line: connection errors carry no secret, but keep it short anyway. */
function describe(error: unknown): string {
  const e = error as { code?: string; message?: string; driverError?: { code?: string } };
  const code = e?.driverError?.code ?? e?.code;
  const message = (e?.message ?? String(error)).split('\n')[0].replace(/postgres(ql)?:\/\/\S+/g, '<database url>').slice(0, 200);
  return code ? `${code}: ${message}` : message;
}
