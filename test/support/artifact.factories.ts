import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { HELD_UPLOAD_BYTES } from '../../src/storage/local-storage.driver';
import type { TestApp } from './app';
import { api, bearer, TestAccount } from './factories';

/** Artifact uploads and downloads for e2e tests. */

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
export const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('hex');
export const randomFile = (size: number) => randomBytes(size);

export function artifactPath(account: { id: string }, releaseId: string): string {
  return `/v1/accounts/${account.id}/releases/${releaseId}/artifact`;
}

/** `PUT /releases/:id/artifact` with the bytes (and Content-Length), as `authorization`. */
export function putArtifact(t: TestApp, account: TestAccount, releaseId: string, body: Buffer, authorization = bearer(account.adminToken), headers: Record<string, string> = {}) {
  let req = t.http.put(artifactPath(account, releaseId)).set('Content-Type', 'application/octet-stream');
  if (authorization) req = req.set('Authorization', authorization);
  for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
  return req.send(body);
}

/** An upload that succeeds (throws otherwise); returns the artifact document. */
export async function uploadArtifact(t: TestApp, account: TestAccount, releaseId: string, body: Buffer): Promise<{ id: string; attributes: Record<string, unknown> }> {
  const res = await putArtifact(t, account, releaseId, body);
  if (res.status !== 200) throw new Error(`upload failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data;
}

/** `GET /releases/:id/artifact` (no redirect following). */
export function getArtifact(t: TestApp, account: TestAccount, releaseId: string, authorization?: string, query = '') {
  const req = api(t, authorization).get(`${artifactPath(account, releaseId)}${query}`);
  return req.redirects(0);
}

/** A local signed URL made relative to the test server (PUBLIC_URL is not the test's random port). */
export function onTestServer(t: TestApp, url: string): string {
  const u = new URL(url);
  return `${t.baseUrl}${u.pathname}${u.search}`;
}

/** Downloads a URL with a plain client (no credentials, no JSON:API headers). */
export async function fetchBytes(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const res = await fetch(url, { headers, method, redirect: 'manual' });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

/** The release as the admin sees it (attributes). */
export async function releaseAttributes(t: TestApp, account: TestAccount, releaseId: string): Promise<Record<string, unknown>> {
  const res = await api(t, bearer(account.adminToken)).get(`/v1/accounts/${account.id}/releases/${releaseId}`);
  if (res.status !== 200) throw new Error(`release read failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.attributes;
}

/** Every file under the local storage root (relative paths), temp files included. */
export function storedFiles(t: TestApp): string[] {
  const root = path.join(t.config.dataDir, 'artifacts');
  const out: string[] = [];
  const walk = (dir: string) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(root, p));
    }
  };
  walk(root);
  return out.sort();
}

/**
 * Starts an upload declaring `declared` bytes, sends `sent` of them, then cuts the connection.
 * Resolves once the socket is closed. With local storage the cut waits until the server is writing
 * the upload (its temporary file exists), however long that takes, so that the cut always lands
 * mid-upload; with S3 it comes 150 ms after the bytes have left.
 */
export function interruptedUpload(t: TestApp, account: TestAccount, releaseId: string, declared: number, sent: number): Promise<void> {
  const writing = async () => {
    // a local upload bigger than what is held in memory is being written once its temporary file is there
    if (t.config.storageDriver === 'local' && sent > HELD_UPLOAD_BYTES) await eventually(() => storedFiles(t).some((f) => f.startsWith('.tmp/')), 30_000);
    else await new Promise((r) => setTimeout(r, 150));
  };
  return new Promise((resolve, reject) => {
    const url = new URL(`${t.baseUrl}${artifactPath(account, releaseId)}`);
    const req = http.request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'PUT',
      headers: { Authorization: bearer(account.adminToken), 'Content-Type': 'application/octet-stream', 'Content-Length': String(declared) },
    });
    req.on('error', () => undefined);
    req.on('close', () => resolve());
    req.write(randomBytes(sent), () => {
      // once the server is writing the upload (local) or has had the bytes for a moment (S3): cut
      writing().then(
        () => req.destroy(),
        (error: Error) => {
          reject(error);
          req.destroy();
        },
      );
    });
  });
}

/**
 * Polls until `check` holds (server-side cleanup after a cut connection is asynchronous). It returns
 * as soon as it holds: the generous default only matters on a busy machine, or when it never holds.
 */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * An upload that sends its headers and first half now and the rest when `finish()` is called,
 * so that several uploads can be in flight at once. `finish()` resolves with the status code.
 */
export function slowUpload(t: TestApp, account: TestAccount, releaseId: string, body: Buffer): { finish(): Promise<number> } {
  const url = new URL(`${t.baseUrl}${artifactPath(account, releaseId)}`);
  let status: (code: number) => void;
  let failed: (e: Error) => void;
  const done = new Promise<number>((resolve, reject) => {
    status = resolve;
    failed = reject;
  });
  const req = http.request(
    {
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'PUT',
      agent: false,
      headers: { Authorization: bearer(account.adminToken), 'Content-Type': 'application/octet-stream', 'Content-Length': String(body.length) },
    },
    (res) => {
      res.resume();
      res.on('end', () => status(res.statusCode!));
    },
  );
  req.on('error', (e) => failed(e));
  const half = Math.floor(body.length / 2);
  req.write(body.subarray(0, half));
  return {
    finish: () => {
      req.end(body.subarray(half));
      return done;
    },
  };
}
