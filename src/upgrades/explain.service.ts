import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Bearer } from '../access/bearer';
import { CatalogueService } from '../catalogue/catalogue.service';
import { ApiError, ErrorCode } from '../jsonapi/errors';
import { isUuid } from '../jsonapi/ids';
import { accountPath } from '../jsonapi/links';
import { queryParam } from '../jsonapi/query';
import type { Query } from '../jsonapi/query';
import { parseInstallId } from '../analytics/install-id';
import { explainLine } from './explain';
import type { Explanation } from './explain';
import { parseUpgradeCheck } from './upgrade-params';
import type { UpgradeCheck } from './upgrade-params';

/** What the explain route reads: the upgrade action's line and version, and whom to explain it for. */
export interface ExplainQuery {
  check: UpgradeCheck;
  product: string;
  /** A license id or key. */
  license?: string;
  installId?: string;
}

/** `product`, `platform`, `arch`, `filetype`, `version`, `channel` as the upgrade action reads them, and `license` (id or key) or `installId`. */
export function parseExplainQuery(query: Query): ExplainQuery {
  const license = queryParam(query, 'license');
  if (license !== undefined && (license.trim() === '' || license.length > 255)) throw ApiError.invalidParameter('license', 'must be a license id or key');
  // the upgrade action's parser reads `license` as an id only: the explain route also takes a key
  const rest = { ...query };
  delete rest.license;
  const check = parseUpgradeCheck(rest);
  return { check, product: queryParam(query, 'product')!, license, installId: parseInstallId(query) };
}

/**
 * "Why no update?" (admins only): the decision every update route makes for a customer, and per
 * release of the line the rule behind it (explain.ts reads walkLine's own rules).
 */
@Injectable()
export class ExplainService {
  constructor(
    private readonly catalogue: CatalogueService,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  async explain(bearer: Bearer, accountId: string, q: ExplainQuery): Promise<object> {
    if (bearer.kind !== 'admin') throw ApiError.forbidden('Only an admin may ask why a customer is offered what it is');
    const { caller, suspended, licenseId } = await this.caller(accountId, q);
    const view = await this.catalogue.productView(caller, accountId, q.product);
    if (!view) throw new ApiError(404, ErrorCode.NOT_FOUND, 'The product was not found', { parameter: 'product' });
    const check = q.check;
    const line = { productId: view.product.id, platform: check.platform, filetype: check.filetype, channel: check.channel, requireArtifact: true, installId: q.installId, policy: view.product.policy };
    const { offer, items } = explainLine(view.viewer, view.releases, line, check.current, suspended);
    const codes = await this.entitlementCodes(accountId, items);
    return {
      data: items.map((item) => this.resource(accountId, item, codes)),
      meta: {
        current: check.version,
        offered: offer ? { release: offer.release.id, version: offer.release.version } : null,
        critical: offer?.critical ?? false,
        belowMinimum: offer?.belowMinimum ?? false,
        rollback: offer?.rollback ?? false,
        caller: licenseId ? { license: licenseId } : q.installId ? { installId: q.installId } : { anonymous: true },
      },
    };
  }

  /** The customer asked about: a license (id or key; suspended and expired ones are explained too), an installation, or nobody. */
  private async caller(accountId: string, q: ExplainQuery): Promise<{ caller: Bearer; suspended: boolean; licenseId?: string }> {
    if (q.license === undefined) return { caller: { kind: 'anonymous', accountId }, suspended: false };
    const cached = isUuid(q.license) ? await this.catalogue.licenseById(accountId, q.license.toLowerCase()) : await this.catalogue.license(accountId, q.license);
    if (!cached) throw new ApiError(404, ErrorCode.NOT_FOUND, 'The license was not found', { parameter: 'license' });
    const caller: Bearer = { kind: 'license', accountId, license: cached.license, facts: cached.facts };
    // a license whose expiry revokes access is explained release by release (`expired`)
    return { caller, suspended: cached.license.suspended, licenseId: cached.license.id };
  }

  private async entitlementCodes(accountId: string, items: Explanation[]): Promise<Map<string, string | null>> {
    const ids = [...new Set(items.flatMap((i) => i.missingEntitlementIds ?? []))];
    if (!ids.length) return new Map();
    const rows: Array<{ id: string; code: string | null }> = await this.db.query('SELECT id, code FROM entitlements WHERE account_id = $1 AND id = ANY($2)', [accountId, ids]);
    return new Map(rows.map((r) => [r.id, r.code]));
  }

  private resource(accountId: string, item: Explanation, codes: Map<string, string | null>): object {
    const r = item.entry.release;
    const artifact = item.entry.artifact;
    const attributes: Record<string, unknown> = {
      version: r.version,
      channel: r.channel,
      platform: r.platform,
      filetype: r.filetype,
      filename: r.filename,
      status: r.status,
      decision: item.decision,
      detail: detail(item, codes),
    };
    if (item.missingEntitlementIds) attributes.entitlements = item.missingEntitlementIds.map((id) => ({ id, code: codes.get(id) ?? null }));
    if (item.decision === 'rollout') Object.assign(attributes, { bucket: item.bucket, percentage: item.percentage });
    if (item.pin !== undefined) attributes.pin = item.pin;
    if (item.required) attributes.required = { id: item.required.id, version: item.required.version };
    const base = accountPath(accountId);
    return {
      type: 'decisions',
      id: artifact && r.multiArtifact ? `${r.id}:${artifact.id}` : r.id,
      attributes,
      relationships: {
        release: { data: { type: 'releases', id: r.id }, links: { related: `${base}/releases/${r.id}` } },
        ...(artifact ? { artifact: { data: { type: 'artifacts', id: artifact.id } } } : {}),
      },
    };
  }
}

/** The decision in words, for a support person. */
function detail(item: Explanation, codes: Map<string, string | null>): string {
  switch (item.decision) {
    case 'offered':
      return 'This is what the customer is offered';
    case 'platform':
      return 'Another platform or file type than the one asked about';
    case 'channel':
      return 'On a channel the request does not include';
    case 'not-published':
      return 'Not published, or its file is not uploaded';
    case 'yanked':
      return 'Yanked';
    case 'closed':
      return 'The product is not open to this customer';
    case 'expired':
      return "Created after the license's expiry";
    case 'constraint':
      return `The license lacks the entitlement${(item.missingEntitlementIds?.length ?? 0) > 1 ? 's' : ''} ${(item.missingEntitlementIds ?? []).map((id) => codes.get(id) ?? id).join(', ')}`;
    case 'not-newer':
      return 'Not newer than the version the customer runs';
    case 'rollout':
      return item.bucket === null || item.bucket === undefined
        ? `Staged at ${item.percentage} %, and the customer has no license or installId to place it in the rollout`
        : `Staged at ${item.percentage} %: the customer's bucket is ${item.bucket}`;
    case 'pin':
      return `Outside the license's pin ${item.pin}`;
    case 'stepping-stone':
      return `${item.required!.version} is required first`;
    case 'suspended':
      return 'The license is suspended';
    default:
      return 'A newer release is offered instead';
  }
}
