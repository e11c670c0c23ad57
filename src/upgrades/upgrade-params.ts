import type { SemVer } from 'semver';
import { ApiError } from '../jsonapi/errors';
import { isUuid } from '../jsonapi/ids';
import { queryParam } from '../jsonapi/query';
import { assertProductRef } from '../products/product-ref';
import type { Query } from '../jsonapi/query';
import { CHANNELS } from '../releases/release.entity';
import type { Channel } from '../releases/release.entity';
import { parseStrictVersion, parseUpgradeConstraint } from '../releases/semver';
import { parseInstallId } from '../analytics/install-id';
import type { UpgradeConstraint } from '../releases/semver';

/** What an upgrade check narrows the candidates by (besides the caller's visibility). */
export interface UpgradeTarget {
  channel: Channel;
  constraint?: UpgradeConstraint;
  /** Stands in for a license id in staged rollouts and counts an anonymous install in analytics. */
  installId?: string;
  /** An admin or product token previewing what this license gets. */
  license?: string;
}

export interface UpgradeCheck extends UpgradeTarget {
  productId: string;
  /** `?product=` was a product code: the service resolves it into productId. */
  productCode?: string;
  platform: string;
  filetype?: string;
  current: SemVer;
  /** The version exactly as the client sent it (echoed back as meta.current). */
  version: string;
}

function required(query: Query, name: string): string {
  const value = queryParam(query, name);
  if (value === undefined || value.trim() === '') throw ApiError.invalidParameter(name, 'is required');
  return value;
}

/** `channel` (default stable, one of the five) and `constraint` (`M` or `M.m`). */
export function parseUpgradeTarget(query: Query): UpgradeTarget {
  const rawChannel = queryParam(query, 'channel');
  let channel: Channel = 'stable';
  if (rawChannel !== undefined) {
    if (!CHANNELS.includes(rawChannel as Channel)) throw ApiError.invalidParameter('channel', `must be one of ${CHANNELS.join(', ')}`);
    channel = rawChannel as Channel;
  }
  const rawConstraint = queryParam(query, 'constraint');
  let constraint: UpgradeConstraint | undefined;
  if (rawConstraint !== undefined) {
    const parsed = parseUpgradeConstraint(rawConstraint);
    if (!parsed) throw ApiError.invalidParameter('constraint', 'must be a major version (2) or a major.minor version (2.1)');
    constraint = parsed;
  }
  const license = queryParam(query, 'license');
  if (license !== undefined && !isUuid(license)) throw ApiError.invalidParameter('license', 'must be a license id');
  return { channel, constraint, installId: parseInstallId(query), license: license?.toLowerCase() };
}

/**
 * `GET /releases/actions/upgrade`: product (uuid), platform and version (strict semver) are
 * required; filetype narrows further when given, and `arch` (API 1.1's artifacts) joins the
 * platform (`platform=linux&arch=amd64` is `platform=linux/amd64`). Every problem is 400
 * PARAMETER_INVALID naming the parameter.
 */
export function parseUpgradeCheck(query: Query): UpgradeCheck {
  const product = required(query, 'product');
  const byId = isUuid(product);
  if (!byId) assertProductRef(product);
  let platform = required(query, 'platform');
  const arch = queryParam(query, 'arch');
  if (arch !== undefined) {
    if (arch.trim() === '' || arch.includes('/')) throw ApiError.invalidParameter('arch', 'must be an architecture, e.g. amd64');
    const slash = platform.indexOf('/');
    if (slash >= 0 && platform.slice(slash + 1) !== arch) throw ApiError.invalidParameter('arch', `is not the platform's own (${platform.slice(slash + 1)})`);
    if (slash < 0) platform = `${platform}/${arch}`;
  }
  const filetype = queryParam(query, 'filetype');
  if (filetype !== undefined && filetype.trim() === '') throw ApiError.invalidParameter('filetype', 'must not be empty');
  const version = required(query, 'version');
  const current = parseStrictVersion(version);
  if (!current) throw ApiError.invalidParameter('version', 'must be a valid semver version');
  return { productId: byId ? product.toLowerCase() : '', productCode: byId ? undefined : product, platform, filetype, current, version, ...parseUpgradeTarget(query) };
}
