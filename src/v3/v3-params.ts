import type { SemVer } from 'semver';
import { ApiError } from '../jsonapi/errors';
import { isUuid } from '../jsonapi/ids';
import { queryParam } from '../jsonapi/query';
import type { Query } from '../jsonapi/query';
import { CHANNELS } from '../releases/release.entity';
import type { Channel } from '../releases/release.entity';
import { INSTALL_ID_MAX_LENGTH } from '../releases/rollout';
import { parseLooseVersion } from '../releases/semver';
import { parseInstallId } from '../analytics/install-id';

/**
 * Query parameters of the Cryptlex-compatible routes. Errors are 400 PARAMETER_INVALID; these
 * routes render them as `{code, message}`, so the message names the parameter.
 */
function invalid(name: string, problem: string): ApiError {
  return ApiError.invalidParameter(name, `The ${name} parameter ${problem}`);
}

function required(query: Query, name: string): string {
  let value: string | undefined;
  try {
    value = queryParam(query, name);
  } catch {
    throw invalid(name, 'must be given once');
  }
  if (value === undefined || value.trim() === '') throw invalid(name, 'is required');
  return value;
}

export function v3ProductId(query: Query): string {
  const productId = required(query, 'productId');
  if (!isUuid(productId)) throw invalid('productId', 'must be a product id');
  return productId.toLowerCase();
}

export interface V3LatestQuery {
  productId: string;
  platform: string;
  channel: Channel;
  /** Stands in for a license id in staged rollouts (token callers without a license). */
  installId?: string;
}

export interface V3UpdateQuery extends V3LatestQuery {
  current: SemVer;
}

export function parseV3Latest(query: Query): V3LatestQuery {
  const productId = v3ProductId(query);
  const platform = required(query, 'platform');
  let channel: Channel = 'stable';
  let rawChannel: string | undefined;
  try {
    rawChannel = queryParam(query, 'channel');
  } catch {
    throw invalid('channel', 'must be given once');
  }
  if (rawChannel !== undefined && rawChannel !== '') {
    if (!CHANNELS.includes(rawChannel as Channel)) throw invalid('channel', `must be one of ${CHANNELS.join(', ')}`);
    channel = rawChannel as Channel;
  }
  let installId: string | undefined;
  try {
    installId = parseInstallId(query);
  } catch {
    throw invalid('installId', `must be 1 to ${INSTALL_ID_MAX_LENGTH} characters, given once`);
  }
  return { productId, platform, channel, installId };
}

/** `/v3/releases/latest`'s optional `version` (the caller's own, for analytics), read loosely. */
export function parseV3ReportedVersion(query: Query): string | undefined {
  let raw: string | undefined;
  try {
    raw = queryParam(query, 'version');
  } catch {
    throw invalid('version', 'must be given once');
  }
  if (raw === undefined || raw === '') return undefined;
  const version = parseLooseVersion(raw);
  if (!version) throw invalid('version', 'must be a version such as 2.1 or 2.1.3');
  return version.version;
}

/** `version` is read loosely: `2.1` means `2.1.0`, `v2.1.3` is accepted. */
export function parseV3Update(query: Query): V3UpdateQuery {
  const latest = parseV3Latest(query);
  const current = parseLooseVersion(required(query, 'version'));
  if (!current) throw invalid('version', 'must be a version such as 2.1 or 2.1.3');
  return { ...latest, current };
}
