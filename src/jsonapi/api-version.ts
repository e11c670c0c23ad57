import type { Request, Response } from 'express';
import { ApiError, ErrorCode } from './errors';

/**
 * Keygen's API versions that Shipgate speaks. 1.0 is the seed's release with one file; from 1.1
 * on a release has many artifacts (docs/api-versions.md). 1.2 to 1.7 answer as 1.1: what they
 * changed in Keygen concerns resources Shipgate does not have.
 */
export const API_VERSIONS = ['1.0', '1.1', '1.2', '1.3', '1.4', '1.5', '1.6', '1.7'] as const;
export type ApiVersion = (typeof API_VERSIONS)[number];
export const DEFAULT_API_VERSION: ApiVersion = '1.0';
export const API_VERSION_HEADER = 'Keygen-Version';

const KNOWN = new Set<string>(API_VERSIONS);

/** A `Keygen-Version` value (a leading `v` ignored), or undefined when it names no version Shipgate speaks. */
export function parseApiVersion(value: string): ApiVersion | undefined {
  const v = value.trim().replace(/^v/i, '');
  return KNOWN.has(v) ? (v as ApiVersion) : undefined;
}

/** The request's version as the header names it; a header naming no known version is 400 HEADER_INVALID. */
export function headerApiVersion(req: Request): ApiVersion | undefined {
  const header = req.headers['keygen-version'];
  if (header === undefined) return undefined;
  const version = typeof header === 'string' ? parseApiVersion(header) : undefined;
  if (!version) {
    throw new ApiError(400, ErrorCode.HEADER_INVALID, `Keygen-Version must be one of ${API_VERSIONS.join(', ')}`, { header: API_VERSION_HEADER });
  }
  return version;
}

interface VersionedRequest extends Request {
  apiVersion?: ApiVersion;
}

/**
 * Settles the request's version once its account is known: the header's, else the account's
 * `apiVersion`, else 1.0; echoed as `Keygen-Version` on the answer.
 */
export function settleApiVersion(req: Request, res: Response, accountVersion: string | undefined): void {
  // most accounts answer 1.0, which the edge has set already
  if (accountVersion === undefined || accountVersion === DEFAULT_API_VERSION || req.headers['keygen-version'] !== undefined) return;
  const version = parseApiVersion(accountVersion);
  if (!version) return;
  (req as VersionedRequest).apiVersion = version;
  res.setHeader(API_VERSION_HEADER, version);
}

/** The version the edge (header) and the guard (account) settled: what the answer is built for. */
export function apiVersionOf(req: Request): ApiVersion {
  return (req as VersionedRequest).apiVersion ?? DEFAULT_API_VERSION;
}

/** Does this version have releases with many artifacts (1.1 and later)? */
export function hasArtifacts(version: ApiVersion): boolean {
  return version !== '1.0';
}

/** At the edge: the header's version (or 1.0 until the account says otherwise), echoed on every answer. */
export function negotiateApiVersion(req: Request, res: Response): void {
  const r = req as VersionedRequest;
  r.apiVersion = headerApiVersion(req) ?? DEFAULT_API_VERSION;
  res.setHeader(API_VERSION_HEADER, r.apiVersion);
}
