import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** The status it was answered with (0: the sender had given up, e.g. after its timeout). */
  status: number;
  at: number;
}

/**
 * A real HTTP server that stands in for a customer's webhook receiver: it records every request
 * and answers with the status `answer` decides (default 204), at once or when its promise settles
 * (a receiver that answers slowly, or hangs until the sender gives up). It also counts the
 * requests open at once per path.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** Every request when it arrived (before it is answered). */
  readonly arrivals: Array<{ path: string; at: number }> = [];
  answer: (req: { path: string; headers: Record<string, string>; body: string }, attempt: number) => number | Promise<number> = () => 204;
  private readonly open = new Map<string, number>();
  private readonly mostOpen = new Map<string, number>();
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    const path = req.url ?? '/';
    this.arrivals.push({ path, at: Date.now() });
    this.open.set(path, (this.open.get(path) ?? 0) + 1);
    this.mostOpen.set(path, Math.max(this.mostOpen.get(path) ?? 0, this.open.get(path)!));
    res.on('close', () => this.open.set(path, this.open.get(path)! - 1));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      const attempt = this.received.filter((r) => r.path === path && r.headers['webhook-id'] === headers['webhook-id']).length + 1;
      const status = await this.answer({ path, headers, body }, attempt);
      // an answer after the sender gave up reaches nobody: recorded as status 0
      this.received.push({ path, headers, body, status: res.destroyed ? 0 : status, at: Date.now() });
      if (!res.destroyed) res.writeHead(status).end();
    });
  });

  /** Requests at `path` open at once, at most, so far. */
  maxOpen(path: string): number {
    return this.mostOpen.get(path) ?? 0;
  }

  /** Requests at `path` open now. */
  openNow(path: string): number {
    return this.open.get(path) ?? 0;
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Accepted (2xx) deliveries at `path`, their bodies parsed. */
  accepted(path: string): Array<ReceivedWebhook & { json: { id: string; event: string; created: string; account: string; data: Record<string, unknown> } }> {
    return this.received.filter((r) => r.path === path && r.status >= 200 && r.status < 300).map((r) => ({ ...r, json: JSON.parse(r.body) }));
  }
}

/** Polls until `check` holds. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
