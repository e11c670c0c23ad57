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

/**
 * Reads wait their turn; everything else goes first. Node answers every request whose bytes arrived
 * in one poll of the event loop before it polls again, so under a flood of update checks (50
 * connections each with a request ready) one turn takes all fifty answers, and a publish, which
 * waits for a dozen queries and file operations one after another, waits one whole turn for
 * each: seconds instead of milliseconds. Here GET and HEAD requests go into a queue that is
 * answered in order, in slices of READ_SLICE_MS between two polls (setImmediate runs after the
 * poll), so a write's next step, and a change notification that the catalogue applies, wait at
 * most one slice. Reads are answered as fast as before (the same work, in the same order); only
 * what else waits for them changes.
 */
export class RequestScheduler {
  private queue: Queued[] = [];
  private head = 0;
  private draining = false;

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
      setImmediate(this.drain);
    }
  };

  /** Requests waiting for their slice. */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  private readonly drain = (): void => {
    const until = performance.now() + this.sliceMs;
    try {
      while (this.head < this.queue.length) {
        const next = this.queue[this.head++];
        // a client that left while its request waited is not answered
        if (!next.req.socket.destroyed) this.handle(next.req, next.res);
        if (performance.now() >= until) break;
      }
    } finally {
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
        this.draining = false;
      } else {
        if (this.head > 1024) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        setImmediate(this.drain);
      }
    }
  };
}

/** When the request reached the server (its queue wait included), or undefined if it never waited. */
export function arrivedAt(req: IncomingMessage): number | undefined {
  return (req as Queued['req'])[ARRIVED];
}
