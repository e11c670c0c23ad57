import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import bcrypt from 'bcrypt';
import { randomBytes } from 'node:crypto';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config';
import { HashPool } from './hash-pool';
import type { HashLane } from './hash-pool';

/**
 * Password hashing: native bcrypt, on libuv's thread pool (never the event loop), at most
 * PASSWORD_HASH_CONCURRENCY at once with a bounded queue (HashPool): a flood of wrong passwords
 * is refused with 503 beyond it instead of taking every core and making everybody wait
 * (bench/auth-bcrypt.mjs measures it).
 */
@Injectable()
export class PasswordHasher implements OnApplicationBootstrap {
  readonly cost: number;
  private readonly pool: HashPool;
  /** A throwaway digest at the configured cost (of a random password nobody knows), made once. */
  private decoy?: Promise<string>;

  constructor(@Inject(APP_CONFIG) config: Pick<AppConfig, 'passwordHashCost' | 'passwordHashConcurrency' | 'passwordHashQueue'>) {
    this.cost = config.passwordHashCost;
    this.pool = new HashPool(config.passwordHashConcurrency, config.passwordHashQueue);
  }

  /** Makes the decoy ahead of the first sign-in (so the first unknown email costs no more than a known one). */
  async onApplicationBootstrap(): Promise<void> {
    await this.decoyDigest();
  }

  /** A new digest; only authenticated callers set passwords, so it waits in the known lane. */
  hash(password: string): Promise<string> {
    return this.pool.run('known', () => bcrypt.hash(password, this.cost));
  }

  /**
   * Compares against the user's digest, or, for an unknown email, against the decoy made at the
   * configured cost: both cost the same, so timing does not reveal which emails exist. 503 when
   * `lane` is full.
   */
  async verify(password: string, digest: string | null, lane: HashLane): Promise<boolean> {
    if (digest === null) {
      const decoy = await this.decoyDigest();
      await this.pool.run(lane, () => bcrypt.compare(password, decoy));
      return false;
    }
    return this.pool.run(lane, () => bcrypt.compare(password, digest));
  }

  /** 503 at once when a check in `lane` would be refused (before the lookups that lead to it). */
  assertRoom(lane: HashLane): void {
    this.pool.assertRoom(lane);
  }

  decoyDigest(): Promise<string> {
    if (!this.decoy) {
      const made = this.pool.run('known', () => bcrypt.hash(randomBytes(24).toString('base64'), this.cost));
      made.catch(() => (this.decoy = undefined)); // a refusal is not kept
      this.decoy = made;
    }
    return this.decoy;
  }
}
