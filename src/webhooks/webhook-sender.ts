import * as http from 'node:http';
import * as https from 'node:https';
import { guardedLookup, checkWebhookUrl, WebhookUrlError } from './webhook-url';
import { signWebhook } from './webhook-signer';

export interface AttemptResult {
  /** A 2xx answer. */
  ok: boolean;
  statusCode: number | null;
  /** Why the attempt failed (never holds the secret). */
  error: string | null;
}

/** At most this much of an answer is read (then the connection is dropped). */
const MAX_ANSWER_BYTES = 64 * 1024;

const timedOut = (timeoutMs: number): AttemptResult => ({ ok: false, statusCode: null, error: `no answer within ${Math.round(timeoutMs / 1000)} s` });

/**
 * One signed POST: Standard Webhooks headers, no redirects followed, the whole attempt (the
 * address check's DNS lookup included) bounded by `timeoutMs`, the address re-checked at
 * connection time. The bound is what lets a worker promise that an attempt ends before its lease.
 */
export async function postWebhook(
  target: { url: string; secret: string; messageId: string; body: string },
  options: { timeoutMs: number; allowPrivate: boolean },
): Promise<AttemptResult> {
  const deadline = Date.now() + options.timeoutMs;
  let checkTimer: NodeJS.Timeout | undefined;
  try {
    const late = new Promise<'late'>((resolve) => (checkTimer = setTimeout(() => resolve('late'), options.timeoutMs)));
    if ((await Promise.race([checkWebhookUrl(target.url, options.allowPrivate), late])) === 'late') return timedOut(options.timeoutMs);
  } catch (error) {
    return { ok: false, statusCode: null, error: error instanceof WebhookUrlError ? `URL refused: ${error.message}` : 'URL refused' };
  } finally {
    clearTimeout(checkTimer);
  }
  const timestamp = Math.floor(Date.now() / 1000);
  const url = new URL(target.url);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<AttemptResult>((resolve) => {
    let settled = false;
    const finish = (result: AttemptResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = client.request(
      url,
      {
        method: 'POST',
        agent: false,
        lookup: guardedLookup(options.allowPrivate) as never,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(target.body),
          'user-agent': 'Shipgate-Webhooks/1',
          'webhook-id': target.messageId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook(target.secret, target.messageId, timestamp, target.body),
        },
      },
      (res) => {
        const statusCode = res.statusCode ?? 0;
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_ANSWER_BYTES) res.destroy();
        });
        const done = () => finish({ ok: statusCode >= 200 && statusCode < 300, statusCode, error: statusCode >= 200 && statusCode < 300 ? null : `the receiver answered ${statusCode}` });
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
      },
    );
    const timer = setTimeout(() => {
      finish(timedOut(options.timeoutMs));
      req.destroy();
    }, Math.max(0, deadline - Date.now()));
    req.on('error', (error: NodeJS.ErrnoException) => {
      const reason = error.code === 'EPRIVATEADDRESS' ? `URL refused: ${error.message}` : `${error.code ?? 'request failed'}: ${error.message}`;
      finish({ ok: false, statusCode: null, error: reason.slice(0, 500) });
    });
    req.end(target.body);
  });
}
