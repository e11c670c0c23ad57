import { Inject, Injectable } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config';

/** Failed sign-ins held at once; beyond, they answer at once (an open-ended flood must not hold a socket each). */
export const MAX_HELD_FAILURES = 256;

/**
 * A failed sign-in (wrong password, limited, pool busy) answers no sooner than
 * SIGNIN_FAILURE_DELAY_MS after it arrived, as login's FAIL_DELAY and pam_faildelay do: a
 * guessing tool that waits for each answer (as they do, with a fixed number of parallel tasks)
 * gets one try per delay and connection, instead of making the server refuse thousands a second
 * while real users wait behind the refusals; and every failure takes the same time.
 */
@Injectable()
export class SignInFailureDelay {
  private held = 0;
  private readonly ms: number;

  constructor(@Inject(APP_CONFIG) config: Pick<AppConfig, 'signinFailureDelayMs'>) {
    this.ms = config.signinFailureDelayMs;
  }

  /** Resolves SIGNIN_FAILURE_DELAY_MS after `arrived` (performance.now()): at once when that has passed, or when too many are held. */
  hold(arrived: number): Promise<void> {
    const wait = arrived + this.ms - performance.now();
    if (wait <= 0 || this.held >= MAX_HELD_FAILURES) return Promise.resolve();
    this.held++;
    return new Promise((resolve) => {
      setTimeout(() => {
        this.held--;
        resolve();
      }, wait).unref();
    });
  }
}
