import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { AppConfig } from '../config/config';

export const SIGNING_SECRET_FILE = 'signing-secret';

/** What a local download URL is signed over; the HTTP method is not part of it (GET and HEAD share URLs). */
export interface DownloadTarget {
  accountId: string;
  artifactId: string;
  /** The release filename as in the URL path, prefix included (`prod-1/linux.tar.gz`). */
  filename: string;
  /** Unix seconds. */
  expires: number;
  /**
   * What the URL was issued for (downloadGeneration): the stored object and the release's
   * status. A yank, a delete or a replacement changes it, and every URL issued before stops working.
   */
  generation?: string;
  /**
   * The license the URL was issued to: each download checks that this license may still download
   * the file (suspended, expired with REVOKE_ACCESS or missing an entitlement: 404).
   */
  licenseId?: string;
}

/** The state a download URL is bound to: the artifact's storage key and its release's status and yank time. */
export function downloadGeneration(storageKey: string, release: { status: string; yanked: Date | string | null }): string {
  const yanked = release.yanked ? new Date(release.yanked).getTime() : 0;
  return createHash('sha256').update(`${storageKey}\n${release.status}\n${yanked}`).digest('hex').slice(0, 16);
}

export type SignatureCheck = 'valid' | 'invalid' | 'expired';

/** JSON of an array: unambiguous whatever characters a filename holds. */
export function canonicalDownloadString(t: DownloadTarget): string {
  const fields = ['shipgate-download-v1', t.accountId.toLowerCase(), t.artifactId.toLowerCase(), t.filename, t.expires];
  if (t.licenseId !== undefined) return JSON.stringify([...fields, t.generation ?? null, 'license', t.licenseId.toLowerCase()]);
  return JSON.stringify(t.generation === undefined ? fields : [...fields, t.generation]);
}

/** Hex (64 characters) or base64url (43 characters) of 32 bytes; anything else is null. */
export function decodeSignature(signature: string): Buffer | null {
  if (/^[0-9a-fA-F]{64}$/.test(signature)) return Buffer.from(signature, 'hex');
  if (/^[A-Za-z0-9_-]{43}$/.test(signature)) {
    const bytes = Buffer.from(signature, 'base64url');
    return bytes.length === 32 && bytes.toString('base64url') === signature ? bytes : null;
  }
  return null;
}

/** HMAC-SHA256 signatures of local download URLs. */
export class DownloadSigner {
  constructor(private readonly secret: Buffer) {
    if (secret.length < 32) throw new Error('the signing secret must be at least 32 bytes');
  }

  /** Lowercase hex HMAC-SHA256 of the canonical string. */
  sign(target: DownloadTarget): string {
    return this.mac(target).toString('hex');
  }

  /** Constant-time check; an authentic but expired URL is `expired`, anything altered `invalid`. */
  verify(target: DownloadTarget, signature: string, nowSeconds = Math.floor(Date.now() / 1000)): SignatureCheck {
    const given = decodeSignature(signature);
    if (!given || !Number.isSafeInteger(target.expires)) return 'invalid';
    if (!timingSafeEqual(given, this.mac(target))) return 'invalid';
    return target.expires < nowSeconds ? 'expired' : 'valid';
  }

  /**
   * An upload URL's signature (the Keygen upload flow): over a string of its own, so that a
   * download URL can never be turned into an upload URL or the reverse.
   */
  signUpload(target: DownloadTarget): string {
    return this.uploadMac(target).toString('hex');
  }

  verifyUpload(target: DownloadTarget, signature: string, nowSeconds = Math.floor(Date.now() / 1000)): SignatureCheck {
    const given = decodeSignature(signature);
    if (!given || !Number.isSafeInteger(target.expires)) return 'invalid';
    if (!timingSafeEqual(given, this.uploadMac(target))) return 'invalid';
    return target.expires < nowSeconds ? 'expired' : 'valid';
  }

  private mac(target: DownloadTarget): Buffer {
    return createHmac('sha256', this.secret).update(canonicalDownloadString(target)).digest();
  }

  private uploadMac(target: DownloadTarget): Buffer {
    return createHmac('sha256', this.secret).update(`shipgate-upload-v1${canonicalDownloadString(target)}`).digest();
  }
}

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException)?.code === code;
}

async function readSecretFile(file: string): Promise<Buffer> {
  const text = (await fsp.readFile(file, 'utf8')).trim();
  if (!/^[0-9a-f]{64,}$/i.test(text)) throw new Error(`${file} is not a hex signing secret; delete it to generate a new one`);
  return Buffer.from(text, 'hex');
}

/**
 * SIGNING_SECRET when configured; otherwise 32 random bytes generated once and kept in
 * `<DATA_DIR>/signing-secret` (mode 0600), so that URLs survive restarts and instances sharing
 * DATA_DIR agree. When two processes race to create it, both end up reading the winner's secret.
 */
export async function loadSigningSecret(config: Pick<AppConfig, 'signingSecret' | 'dataDir'>): Promise<Buffer> {
  if (config.signingSecret) return Buffer.from(config.signingSecret, 'utf8');
  const file = path.join(config.dataDir, SIGNING_SECRET_FILE);
  try {
    return await readSecretFile(file);
  } catch (error) {
    if (!isCode(error, 'ENOENT')) throw error;
  }
  await fsp.mkdir(config.dataDir, { recursive: true });
  // write a complete file aside, then link it into place: link() fails if another process won
  const temp = `${file}.${randomBytes(8).toString('hex')}.tmp`;
  await fsp.writeFile(temp, `${randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
  try {
    await fsp.link(temp, file);
  } catch (error) {
    if (!isCode(error, 'EEXIST')) throw error;
  } finally {
    await fsp.rm(temp, { force: true });
  }
  return readSecretFile(file);
}
