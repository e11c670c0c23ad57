import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

/**
 * How long queued reads may run per turn of the event loop before Node polls for I/O again (a
 * write's next query result, a change notification, a chunk of an upload).
 */
export const READ_SLICE_MS = 2;

/** When the server received a request (performance.now()), before it waited in the read queue. */
const ARRIVED = Symbol('shipgate.arrived');

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface Queued {
  req: IncomingMessage & { [ARRIVED]?: number };
  res: ServerResponse;
}

/** The most reads one slice starts, however cheap they have been. */
const MAX_BATCH = 256;

/**
 * Reads wait their turn; everything else goes first. Node answers every request whose bytes arrived
 * in one poll of the event loop before it polls again, so under a flood of update checks (50
 * connections each with a request ready) one turn takes all fifty answers, and a publish, which
 * waits for a dozen queries and file operations one after another, waits one whole turn for
 * each: seconds instead of milliseconds. Here GET and HEAD requests go into a queue that is
 * answered in order, in slices of READ_SLICE_MS between two polls, so a write's next step, and a
 * change notification that the catalogue applies, wait at most about one slice. Reads are answered
 * as fast as before (the same work, in the same order); only what else waits for them changes.
 *
 * A slice is measured with all of its reads' work, not only their synchronous starts: a route's
 * guards and interceptors continue in promise callbacks, which Node runs after the setImmediate
 * callback that started them, not inside it. So each turn runs two immediates: `drain` starts a
 * batch of reads, their promise callbacks run, then `measure` sees what the batch cost in all and
 * sizes the next batch to fill one slice. (Timing only the synchronous starts made turns of 8 ms
 * where 2 were meant; starting each read from an immediate of its own measured well but cost a
 * tenth of the throughput in turns of the loop.)
 */
export class RequestScheduler {
  /** Answered slots are emptied at once: a request kept here after its answer would live long enough to reach the old generation. */
  private queue: (Queued | undefined)[] = [];
  private head = 0;
  private draining = false;
  /** How many reads the next batch starts (learned from the batches before it). */
  private batch = 4;
  private batchStarted = 0;
  private batchRan = 0;

  constructor(
    private readonly handle: Handler,
    private readonly sliceMs = READ_SLICE_MS,
  ) {}

  /** The server's 'request' listener. */
  readonly admit: Handler = (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.handle(req, res);
    const queued = req as Queued['req'];
    queued[ARRIVED] = performance.now();
    this.queue.push({ req: queued, res });
    if (!this.draining) {
      this.draining = true;
      this.nextTurn();
    }
  };

  /** Requests waiting for their slice. */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  /** drain, then (after the batch's promise callbacks) measure: both in the check phase of one turn. */
  private nextTurn(): void {
    setImmediate(this.drain);
    setImmediate(this.measure);
  }

  /** Starts the next batch of reads (fewer if their synchronous parts alone fill the slice). */
  private readonly drain = (): void => {
    const started = performance.now();
    let ran = 0;
    while (this.head < this.queue.length && ran < this.batch) {
      const next = this.queue[this.head] as Queued;
      this.queue[this.head++] = undefined;
      ran++;
      // a client that left while its request waited is not answered
      if (!next.req.socket.destroyed) this.handle(next.req, next.res);
      if (performance.now() - started >= this.sliceMs) break;
    }
    this.batchStarted = started;
    this.batchRan = ran;
  };

  /** What the batch cost with its promise callbacks sizes the next one; more reads wait: another turn. */
  private readonly measure = (): void => {
    const took = performance.now() - this.batchStarted;
    // a batch cut short by an empty queue says nothing of how many would fill a slice
    if (this.batchRan > 0 && (this.batchRan === this.batch || took >= this.sliceMs)) {
      this.batch = Math.max(1, Math.min(MAX_BATCH, Math.round((this.sliceMs * this.batchRan) / Math.max(took, 0.001))));
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
      this.draining = false;
      return;
    }
    if (this.head > 1024) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.nextTurn();
  };
}

/** When the request reached the server (its queue wait included), or undefined if it never waited. */
export function arrivedAt(req: IncomingMessage): number | undefined {
  return (req as Queued['req'])[ARRIVED];
}
