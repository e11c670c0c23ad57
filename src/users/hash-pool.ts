import { performance } from 'node:perf_hooks';
import { ApiError, ErrorCode } from '../jsonapi/errors';

/**
 * Which queue a password check waits in: `known` for work that comes from someone who already
 * proved to be who they say (an authenticated caller setting a password, a sign-in from a network
 * where this email signed in before), `other` for everything else. A slot that frees goes to
 * `known` first, so a flood of guesses from addresses never seen before cannot keep a real user
 * waiting behind it.
 */
export type HashLane = 'known' | 'other';

/**
 * At most `concurrency` slow hashes at once, each lane with at most `queueLimit` waiting; beyond
 * that a check is refused at once (503 with Retry-After) instead of piling up, so that a flood
 * costs the server a bounded amount of work and every caller a bounded wait. With two threads or
 * more, `other` checks use all but one: one is kept for the known lane, so that a known caller
 * never waits for a stranger's hash to end, and a flood never takes every core.
 */
export class HashPool {
  private running = 0;
  private runningOther = 0;
  private readonly otherSlots: number;
  private readonly waiting: Record<HashLane, Array<() => void>> = { known: [], other: [] };
  /** Moving average of one check's duration (ms), for Retry-After. */
  private averageMs = 0;

  constructor(
    readonly concurrency: number,
    readonly queueLimit: number,
  ) {
    this.otherSlots = Math.max(1, concurrency - 1);
  }

  /** Whether a check in `lane` would be taken now: a cheap look before the work that leads to one. */
  hasRoom(lane: HashLane): boolean {
    return this.canStart(lane) || this.waiting[lane].length < this.queueLimit;
  }

  /** Refuses now, with the 503 run() would give, when the lane is full. */
  assertRoom(lane: HashLane): void {
    if (!this.hasRoom(lane)) throw this.busy();
  }

  async run<T>(lane: HashLane, work: () => Promise<T>): Promise<T> {
    if (this.canStart(lane)) this.start(lane);
    else if (this.waiting[lane].length < this.queueLimit) await new Promise<void>((resolve) => this.waiting[lane].push(resolve));
    else throw this.busy();
    const started = performance.now();
    try {
      return await work();
    } finally {
      const ms = performance.now() - started;
      this.averageMs = this.averageMs === 0 ? ms : 0.8 * this.averageMs + 0.2 * ms;
      this.finish(lane);
    }
  }

  private canStart(lane: HashLane): boolean {
    return this.running < this.concurrency && (lane === 'known' || this.runningOther < this.otherSlots);
  }

  private start(lane: HashLane): void {
    this.running++;
    if (lane === 'other') this.runningOther++;
  }

  /** Frees the slot and starts the next check in line that may take it, known lane first. */
  private finish(lane: HashLane): void {
    this.running--;
    if (lane === 'other') this.runningOther--;
    for (const next of LANES) {
      if (this.waiting[next].length && this.canStart(next)) {
        this.start(next);
        this.waiting[next].shift()!();
        return;
      }
    }
  }

  /** 503 PASSWORD_HASHING_BUSY; Retry-After is about the time the checks in hand take. */
  private busy(): ApiError {
    const inHand = this.running + this.waiting.known.length + this.waiting.other.length;
    const seconds = Math.max(1, Math.ceil((inHand * this.averageMs) / this.concurrency / 1000));
    return new ApiError(503, ErrorCode.PASSWORD_HASHING_BUSY, 'Too many password checks at once, try again in a moment', undefined, {
      'Retry-After': String(seconds),
    });
  }
}

const LANES: HashLane[] = ['known', 'other'];
