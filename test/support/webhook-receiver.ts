import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** The status it was answered with. */
  status: number;
  at: number;
}

/**
 * A real HTTP server that stands in for a customer's webhook receiver: it records every request
 * and answers with the status `answer` decides (default 204).
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  answer: (req: { path: string; headers: Record<string, string>; body: string }, attempt: number) => number = () => 204;
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      const path = req.url ?? '/';
      const attempt = this.received.filter((r) => r.path === path && r.headers['webhook-id'] === headers['webhook-id']).length + 1;
      const status = this.answer({ path, headers, body }, attempt);
      this.received.push({ path, headers, body, status, at: Date.now() });
      res.writeHead(status).end();
    });
  });

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
