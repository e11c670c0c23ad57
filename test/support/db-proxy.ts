import * as net from 'node:net';

/**
 * A real TCP proxy in front of the test PostgreSQL, so that a test can take the database away
 * (`stop`: every connection cut, new ones refused), freeze it (`freeze`: connections stay open but
 * no byte moves, like a stopped server), bring it back (`start`/`thaw`), or slow its answers
 * (`latencyMs`, raised at any time).
 */
export class DatabaseProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private frozen = false;
  /** Delay of every byte from the database to the client (ms): a far or busy instance. */
  latencyMs = 0;
  private readonly paused = new Set<net.Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  /** The database URL with host and port replaced by the proxy's. */
  static for(databaseUrl: string): { proxy: DatabaseProxy; url: string } {
    const url = new URL(databaseUrl);
    const proxy = new DatabaseProxy({ host: url.hostname, port: Number(url.port || 5432) });
    return { proxy, url: databaseUrl };
  }

  urlFor(databaseUrl: string): string {
    const url = new URL(databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  async start(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream);
      upstream.on('data', (chunk: Buffer) => {
        // a delay that only grows keeps the bytes in order
        if (this.latencyMs > 0) setTimeout(() => client.writable && client.write(chunk), this.latencyMs);
        else client.write(chunk);
      });
      if (this.frozen) this.hold(client, upstream);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Cuts every connection and refuses new ones. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private hold(...sockets: net.Socket[]): void {
    for (const s of sockets) {
      s.unpipe();
      s.pause();
      this.paused.add(s);
    }
  }

  /** No byte moves any more, in either direction, on old or new connections. */
  freeze(): void {
    this.frozen = true;
    this.hold(...this.sockets);
  }

  async close(): Promise<void> {
    await this.stop();
  }
}
