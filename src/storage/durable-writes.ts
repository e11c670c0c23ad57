import { Worker } from 'node:worker_threads';

/**
 * The thread's code (plain JavaScript, so that it runs the same from dist/ and under ts-jest):
 * each job is a short sequence of synchronous file operations, answered with one message.
 */
const THREAD_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');

function syncDir(dir) {
  const fd = fs.openSync(dir, 'r');
  try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
}

// the file at 'from' becomes 'to': its directory made if missing, the rename itself flushed
function renameInto(from, to) {
  const dir = path.dirname(to);
  for (let attempt = 0; ; attempt++) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    try {
      fs.renameSync(from, to);
      break;
    } catch (error) {
      // a concurrent delete may have pruned the (then empty) directory between mkdir and rename
      if (error.code !== 'ENOENT' || attempt >= 2) throw error;
    }
  }
  syncDir(dir);
}

const jobs = {
  rename({ from, to }) {
    renameInto(from, to);
  },
  write({ bytes, temp, to }) {
    const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const fd = fs.openSync(temp, 'wx', 0o600);
    try {
      for (let at = 0; at < data.length; ) at += fs.writeSync(fd, data, at);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    try {
      renameInto(temp, to);
    } catch (error) {
      fs.rmSync(temp, { force: true });
      throw error;
    }
  },
};

parentPort.on('message', ({ id, job, args }) => {
  try {
    jobs[job](args);
    parentPort.postMessage({ id });
  } catch (error) {
    parentPort.postMessage({ id, error: { message: String(error && error.message), code: error && error.code } });
  }
});
`;

interface Pending {
  worker: Worker;
  resolve(): void;
  reject(error: Error): void;
}

/**
 * The durable steps of a local upload, each done in a thread of its own as one job: a write to disk
 * that survives a crash is half a dozen file operations one after another (open, write, fsync,
 * close, rename, fsync of the directory), and each of them done from the event loop waits a turn
 * of it, behind the reads being answered meanwhile. Here the whole sequence is one wait.
 */
export class DurableWrites {
  private worker: Worker | null = null;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();

  /** Renames the file `from` (on the same filesystem) to `to`, making `to`'s directory if needed; flushed to disk. */
  rename(from: string, to: string): Promise<void> {
    return this.run('rename', { from, to });
  }

  /** Writes `bytes` as the new file `to`, through `temp` (written, flushed, then renamed into place). */
  write(bytes: Buffer, temp: string, to: string): Promise<void> {
    return this.run('write', { bytes, temp, to });
  }

  /** Stops the thread; jobs not answered yet fail. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }

  private run(job: string, args: object): Promise<void> {
    const worker = this.worker ?? this.start();
    const id = ++this.nextId;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { worker, resolve, reject });
      // the thread keeps the process alive only while it has work
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ id, job, args });
    });
  }

  private start(): Worker {
    const worker = new Worker(THREAD_SOURCE, { eval: true });
    worker.unref();
    worker.on('message', ({ id, error }: { id: number; error?: { message: string; code?: string } }) => {
      const job = this.settled(id);
      if (!job) return;
      if (error) job.reject(Object.assign(new Error(error.message), { code: error.code }));
      else job.resolve();
    });
    worker.on('error', (error) => this.lost(worker, error));
    worker.on('exit', () => this.lost(worker, new Error('the file thread stopped')));
    this.worker = worker;
    return worker;
  }

  /** The job answered, no longer pending (undefined: it was not, e.g. its thread was lost). */
  private settled(id: number): Pending | undefined {
    const job = this.pending.get(id);
    this.pending.delete(id);
    if (job && this.pending.size === 0) job.worker.unref();
    return job;
  }

  /** A thread that failed or stopped: its jobs fail, and the next job starts a new one. */
  private lost(worker: Worker, error: Error): void {
    if (this.worker === worker) this.worker = null;
    for (const [id, job] of this.pending) {
      if (job.worker !== worker) continue;
      this.pending.delete(id);
      job.reject(error);
    }
  }
}
