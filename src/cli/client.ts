import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';

/** The `shipgate` command talks to the API like any client: nothing here imports the server. */

export const JSONAPI = 'application/vnd.api+json';

export interface Resource {
  id: string;
  type: string;
  attributes: Record<string, unknown>;
  relationships?: Record<string, { data?: { type: string; id: string } | null }>;
  links?: Record<string, unknown>;
}

export interface ApiDocument {
  data: Resource | Resource[] | null;
  links?: Record<string, unknown>;
  meta?: Record<string, unknown>;
}

/**
 * The command's exit codes (docs/cli.md), so that a CI job can tell failures apart: its own
 * command line, the credential, a missing resource, the network, the server.
 */
export const EXIT = {
  ok: 0,
  /** The server refused the request (400, 409, 422, ...) or a file cannot be read. */
  failed: 1,
  /** The command line: an unknown command or option, a missing or invalid value. */
  usage: 2,
  /** 401 or 403: no, a wrong or an insufficient credential. */
  auth: 3,
  /** 404: the account, product, release ... does not exist (or is not visible to the credential). */
  notFound: 4,
  /** The server cannot be reached (refused, DNS, TLS, timeout). */
  network: 5,
  /** 5xx: the server failed or is unavailable. */
  server: 6,
} as const;

/** The exit code of an answer's HTTP status. */
export function exitCodeOf(status: number): number {
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 404) return EXIT.notFound;
  if (status >= 500) return EXIT.server;
  return EXIT.failed;
}

/** A failed request: the server's first error (status, code, detail), or what went wrong on the way. */
export class ShipgateError extends Error {
  readonly exitCode: number;

  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
    exitCode?: number,
  ) {
    super(message);
    this.name = 'ShipgateError';
    this.exitCode = exitCode ?? (status ? exitCodeOf(status) : EXIT.failed);
  }
}

/** A command line the command cannot run (exit code 2). */
export const usageError = (message: string) => new ShipgateError(message, undefined, undefined, EXIT.usage);

/** `ENOENT` -> `no such file or directory (ENOENT)`: the reason a file cannot be read, in words. */
export function fileProblem(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  const words = /^[A-Z]+: ([^,]+)/.exec(e?.message ?? '')?.[1];
  return e?.code ? `${words ?? e.code.toLowerCase()} (${e.code})` : String(e?.message ?? error);
}

export interface Connection {
  /** Server base URL, e.g. https://releases.example.com */
  url: string;
  /** Account id or slug. */
  account: string;
  /** `Authorization` header value, when there is a credential. */
  authorization?: string;
  /**
   * `Keygen-Version` of every request: the API version whose documents the command reads. 1.0
   * unless a command says otherwise, so that an account whose default is 1.1 answers the
   * commands written for 1.0 as they expect.
   */
  apiVersion?: string;
}

export interface Answer<T = ApiDocument> {
  status: number;
  headers: Headers;
  body: T;
}

/** The server's error document as one line: `422 VERSION_TAKEN: version is already taken ...`. */
async function errorOf(res: Response): Promise<ShipgateError> {
  const text = await res.text();
  try {
    const doc = JSON.parse(text) as { errors?: Array<{ code?: string; detail?: string; title?: string; source?: Record<string, string> }>; code?: string; message?: string };
    const e = doc.errors?.[0];
    if (e) {
      const where = e.source?.pointer ?? e.source?.parameter ?? e.source?.header;
      return new ShipgateError(`${res.status} ${e.code}: ${e.detail ?? e.title}${where ? ` (${where})` : ''}`, res.status, e.code);
    }
    if (doc.code) return new ShipgateError(`${res.status} ${doc.code}: ${doc.message}`, res.status, doc.code);
  } catch {
    // not JSON: below
  }
  return new ShipgateError(`${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`, res.status);
}

export class ShipgateClient {
  readonly base: string;

  constructor(readonly connection: Connection) {
    this.base = `${connection.url.replace(/\/+$/, '')}/v1/accounts/${encodeURIComponent(connection.account)}`;
  }

  /** The same connection, speaking another API version (`1.1`: releases with many artifacts). */
  withApiVersion(apiVersion: string): ShipgateClient {
    return new ShipgateClient({ ...this.connection, apiVersion });
  }

  private get versionHeader(): Record<string, string> {
    return { 'Keygen-Version': this.connection.apiVersion ?? '1.0' };
  }

  /** One request to a path under the account (or an absolute URL); non-2xx/3xx answers throw ShipgateError. */
  async request<T = ApiDocument>(
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; accept?: number[]; authorization?: string | null } = {},
  ): Promise<Answer<T>> {
    const url = /^https?:\/\//.test(path) ? path : `${this.base}${path}`;
    const headers: Record<string, string> = { Accept: JSONAPI, ...this.versionHeader, ...options.headers };
    const authorization = options.authorization === undefined ? this.connection.authorization : options.authorization;
    if (authorization) headers.Authorization = authorization;
    if (options.body !== undefined) headers['Content-Type'] = JSONAPI;
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body), redirect: 'manual' });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new ShipgateError(`cannot reach ${new URL(url).origin}: ${cause?.code ?? cause?.message ?? (error as Error).message}`, undefined, undefined, EXIT.network);
    }
    const ok = (res.status >= 200 && res.status < 300) || (options.accept ?? []).includes(res.status);
    if (!ok) throw await errorOf(res);
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : null) as T };
  }

  get<T = ApiDocument>(path: string, accept?: number[]): Promise<Answer<T>> {
    return this.request<T>('GET', path, { accept });
  }

  post<T = ApiDocument>(path: string, body?: unknown): Promise<Answer<T>> {
    return this.request<T>('POST', path, { body });
  }

  /**
   * PUT of a stream of `size` bytes (an artifact upload), with `onProgress(sent)` as bytes go out.
   * node:http rather than fetch: the body is streamed with a known Content-Length and its progress
   * is observable. `authorization: null` sends no credential (a signed upload URL needs none, and
   * the token must not travel to another host such as an S3 bucket).
   */
  putStream(
    path: string,
    body: Readable,
    size: number,
    options: { headers?: Record<string, string>; onProgress?: (sent: number) => void; authorization?: string | null } = {},
  ): Promise<Answer> {
    const url = new URL(/^https?:\/\//.test(path) ? path : `${this.base}${path}`);
    const transport = url.protocol === 'https:' ? https : http;
    const all: Record<string, string | number> = { Accept: JSONAPI, ...this.versionHeader, 'Content-Type': 'application/octet-stream', 'Content-Length': size, ...options.headers };
    const authorization = options.authorization === undefined ? this.connection.authorization : options.authorization;
    if (authorization) all.Authorization = authorization;
    const onProgress = options.onProgress;
    return new Promise((resolve, reject) => {
      const req = transport.request(url, { method: 'PUT', headers: all }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const response = new Response(text, { status: res.statusCode ?? 500, statusText: res.statusMessage });
          if ((res.statusCode ?? 500) >= 300) return void errorOf(response).then(reject, reject);
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
          // a presigned storage URL (S3) answers without a JSON:API document
          const json = /json/.test(headers.get('content-type') ?? '') && text;
          resolve({ status: res.statusCode!, headers, body: (json ? JSON.parse(text) : null) as ApiDocument });
        });
      });
      req.on('error', (error) => reject(new ShipgateError(`the upload failed: ${(error as NodeJS.ErrnoException).code ?? error.message}`, undefined, undefined, EXIT.network)));
      let sent = 0;
      body.on('data', (chunk: Buffer) => {
        sent += chunk.length;
        onProgress?.(sent);
      });
      body.on('error', (error) => {
        req.destroy();
        reject(new ShipgateError(`cannot read the file: ${fileProblem(error)}`));
      });
      body.pipe(req);
    });
  }
}

export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
