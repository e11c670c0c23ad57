import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config';
import { ApiError, ErrorCode } from '../jsonapi/errors';
import { clientNetwork } from './client-network';

/** One limit of Limits and hardening: a count per window, kept under its own key prefix. */
interface Limit {
  name: string;
  points: number;
  seconds: number;
  limiter: RateLimiterAbstract;
}

/** Where a request keeps its client network once worked out (a sign-in asks for it up to five times). */
const NETWORK = Symbol('clientNetwork');

const MINUTE = 60;
const QUARTER_HOUR = 15 * 60;
/** How long a successful sign-in makes its (email, network) known (its checks wait in the known lane). */
const KNOWN_SIGNIN_SECONDS = 14 * 24 * 60 * 60;

/** rate-limiter-flexible rejects with a RateLimiterRes when over the limit, with an Error when the store failed. */
function isOverLimit(error: unknown): error is RateLimiterRes {
  return error instanceof RateLimiterRes;
}

function setHeaders(res: Response, limit: Limit, state: RateLimiterRes): void {
  res.setHeader('RateLimit-Limit', limit.points);
  res.setHeader('RateLimit-Remaining', state.remainingPoints);
  res.setHeader('RateLimit-Reset', Math.ceil(state.msBeforeNext / 1000));
}

function tooMany(limit: Limit, state: RateLimiterRes, detail: string): ApiError {
  const seconds = String(Math.max(1, Math.ceil(state.msBeforeNext / 1000)));
  return new ApiError(429, ErrorCode.RATE_LIMITED, detail, undefined, {
    'Retry-After': seconds,
    'RateLimit-Limit': String(limit.points),
    'RateLimit-Remaining': '0',
    'RateLimit-Reset': seconds,
  });
}

/**
 * The rate limits (rate-limiter-flexible): per client network (an IPv4 address, an IPv6 /64) for
 * anonymous requests and for failed credentials, per account+email+network for failed sign-ins
 * (so that failures from elsewhere never lock a user out), per credential for everything else. Counters live in this process, or in Redis when REDIS_URL is set, shared by every
 * instance; when Redis does not answer, each instance falls back to its own memory counters
 * (an insurance limiter) rather than failing requests.
 */
@Injectable()
export class RateLimitsService implements OnModuleDestroy {
  private readonly logger = new Logger('RateLimits');
  readonly enabled: boolean;
  private readonly redis?: Redis;
  private redisDown = false;
  private readonly anonymous: Limit;
  private readonly failedAuth: Limit;
  private readonly signin: Limit;
  private readonly credential: Limit;
  /** (account, email, network) that signed in successfully in the last KNOWN_SIGNIN_SECONDS: not a limit, a memory in the same store. */
  private readonly knownSignIns: Limit;
  /** Networks with a failed check in the current window, when counting in this process (no Redis). */
  private readonly failedHere: LRUCache<string, true>;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    const limits = config.rateLimit;
    this.enabled = limits.enabled;
    if (this.enabled && config.redisUrl) {
      // no offline queue: while Redis is away, commands fail at once and the insurance limiter answers
      this.redis = new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000, lazyConnect: false });
      this.redis.on('error', (error: Error) => {
        if (this.redisDown) return;
        this.redisDown = true;
        // the message of a connection error names host and port, never the URL's password
        this.logger.warn(`Redis unavailable (${error.message}): rate limits count per instance until it is back`);
      });
      this.redis.on('ready', () => {
        if (!this.redisDown) return;
        this.redisDown = false;
        this.logger.log('Redis available again: rate limits are shared again');
      });
    }
    this.anonymous = this.limit('anon', limits.anonymousPerMin, MINUTE);
    this.failedAuth = this.limit('fail', limits.failedAuthPer15Min, QUARTER_HOUR);
    this.signin = this.limit('signin', limits.signinPer15Min, QUARTER_HOUR);
    this.credential = this.limit('cred', limits.credentialPerMin, MINUTE);
    this.knownSignIns = this.limit('known', 1, KNOWN_SIGNIN_SECONDS);
    this.failedHere = new LRUCache<string, true>({ max: 100_000, ttl: QUARTER_HOUR * 1000 });
  }

  private limit(name: string, points: number, seconds: number): Limit {
    const keyPrefix = `${this.config.redisKeyPrefix}rl:${name}`;
    const limiter = this.redis
      ? new RateLimiterRedis({
          storeClient: this.redis,
          keyPrefix,
          points,
          duration: seconds,
          insuranceLimiter: new RateLimiterMemory({ keyPrefix, points, duration: seconds }),
        })
      : new RateLimiterMemory({ keyPrefix, points, duration: seconds });
    return { name, points, seconds, limiter };
  }

  /** The client's address: the socket's, unless TRUST_PROXY names proxies (then express's req.ip). */
  clientIp(req: Request): string {
    return (this.config.trustProxy === false ? req.socket.remoteAddress : req.ip) ?? 'unknown';
  }

  /** What the per-address limits count against: the client's IPv4 address or IPv6 /64 (worked out once per request). */
  clientNetwork(req: Request): string {
    const known = req as Request & { [NETWORK]?: string };
    return (known[NETWORK] ??= clientNetwork(this.clientIp(req)));
  }

  /** Counts a request without a credential against its network; 429 beyond the limit. */
  anonymousRequest(req: Request, res: Response): Promise<void> {
    return this.consume(this.anonymous, this.clientNetwork(req), res, 'Too many requests without credentials from this address');
  }

  /** Counts a request against its (valid) credential; 429 beyond the limit. */
  credentialRequest(credentialId: string, res: Response): Promise<void> {
    return this.consume(this.credential, credentialId, res, 'Too many requests with this credential');
  }

  /**
   * Before a credential is checked: a network that has used up its failed checks gets 429 for
   * every credential, valid or not, until the window ends (else guessing could go on, telling
   * hits from 429s).
   */
  async assertCredentialChecksAllowed(req: Request): Promise<void> {
    if (!this.mayHaveFailed(req)) return;
    const state = await this.peek(this.failedAuth, this.clientNetwork(req));
    if (state && state.consumedPoints >= this.failedAuth.points) {
      throw tooMany(this.failedAuth, state, 'Too many failed authentication attempts from this address');
    }
  }

  /**
   * Whether the network may have failed credential checks to look up: counting in this process
   * only, a network it never saw fail has none (no call into the limiter); shared counters
   * (Redis) are always asked.
   */
  mayHaveFailed(req: Request): boolean {
    return !!this.redis || this.failedHere.has(this.clientNetwork(req));
  }

  /**
   * After a credential failed: counts it against the network (the 401 then carries the network's
   * remaining failed checks in RateLimit-*); 429 instead of 401 once over the limit.
   */
  async failedCredential(req: Request, res?: Response): Promise<void> {
    const network = this.clientNetwork(req);
    if (!this.redis) this.failedHere.set(network, true);
    await this.consume(this.failedAuth, network, res, 'Too many failed authentication attempts from this address');
  }

  /**
   * Before a password is checked: the network's failed checks, and the email's failed sign-ins
   * from this network. Failures from other networks do not count: a guesser elsewhere cannot lock
   * the user out, and a guesser gets RATE_LIMIT_SIGNIN_PER_15MIN tries per email per network.
   */
  async assertSignInAllowed(req: Request, accountId: string, email: string): Promise<void> {
    await this.assertCredentialChecksAllowed(req);
    const state = await this.peek(this.signin, signinKey(accountId, email, this.clientNetwork(req)));
    if (state && state.consumedPoints >= this.signin.points) {
      throw tooMany(this.signin, state, 'Too many failed sign-ins for this email from this address, try again later');
    }
  }

  /** A wrong password: counts against the email from this network and the network; 429 once either is over its limit. */
  async failedSignIn(req: Request, res: Response, accountId: string, email: string): Promise<void> {
    await this.consume(this.signin, signinKey(accountId, email, this.clientNetwork(req)), res, 'Too many failed sign-ins for this email from this address, try again later');
    await this.failedCredential(req);
  }

  /**
   * Whether this email signed in successfully from this network lately: its password check then
   * waits in the known lane, ahead of guesses from networks never seen to succeed. (Only a
   * success makes a pair known, so an attacker's fresh addresses never are.)
   */
  async knownSignIn(req: Request, accountId: string, email: string): Promise<boolean> {
    try {
      return (await this.knownSignIns.limiter.get(signinKey(accountId, email, this.clientNetwork(req)))) !== null;
    } catch {
      return false; // the store failed: an ordinary sign-in
    }
  }

  /** Remembers a successful sign-in's (email, network) (see knownSignIn). */
  async succeededSignIn(req: Request, accountId: string, email: string): Promise<void> {
    try {
      await this.knownSignIns.limiter.set(signinKey(accountId, email, this.clientNetwork(req)), 1, KNOWN_SIGNIN_SECONDS);
    } catch {
      // the store failed: the next sign-in is an ordinary one
    }
  }

  private async peek(limit: Limit, key: string): Promise<RateLimiterRes | null> {
    if (!this.enabled) return null;
    try {
      return await limit.limiter.get(key);
    } catch {
      return null; // the store failed: do not lock everybody out
    }
  }

  /**
   * Counts one request against `key`: 429 beyond the limit, the RateLimit headers on `res`
   * otherwise. One chained promise, no async frame (every limited request passes here). A store
   * that fails (and its insurance limiter too) lets the request through.
   */
  private consume(limit: Limit, key: string, res: Response | undefined, detail: string): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    return limit.limiter.consume(key).then(
      (state) => {
        if (res) setHeaders(res, limit, state);
      },
      (error: unknown) => {
        if (isOverLimit(error)) throw tooMany(limit, error, detail);
      },
    );
  }

  async onModuleDestroy(): Promise<void> {
    if (this.redis) this.redis.disconnect();
  }
}

function signinKey(accountId: string, email: string, network: string): string {
  return `${accountId}:${email.toLowerCase()}:${network}`;
}
