import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, In, Repository, SelectQueryBuilder } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm';
import { Artifact } from './artifact.entity';
import { StoredFiles } from '../storage/stored-files';
import type { Bearer } from '../access/bearer';
import { isPrivileged } from '../access/bearer';
import { Entitlement } from '../entitlements/entitlement.entity';
import { EntitlementSerializer } from '../entitlements/entitlement.serializer';
import { insertReturning } from '../database/insert-returning';
import { EventsService } from '../events/events.service';
import { ApiError, foreignKeyViolation, uniqueViolation } from '../jsonapi/errors';
import { isUuid } from '../jsonapi/ids';
import { paginate } from '../jsonapi/paginate';
import type { SortColumns } from '../jsonapi/paginate';
import type { Fieldsets, ListQuery } from '../jsonapi/query';
import { toResource } from '../jsonapi/serializer';
import type { PageResult, ResourceObject } from '../jsonapi/serializer';
import { Product } from '../products/product.entity';
import { ProductSerializer } from '../products/product.serializer';
import { ArtifactSerializer } from './artifact.serializer';
import { CreateReleaseDto, UpdateReleaseDto } from './dto/release.dto';
import type { CreateReleaseV11Dto, UpdateReleaseV11Dto } from './dto/release-v11.dto';
import { ConstraintSerializer } from './constraint.serializer';
import { ReleaseConstraint } from './release-constraint.entity';
import { Release } from './release.entity';
import { PendingCounts } from './pending-counts';
import { ReleaseVisibilityPolicy } from './release.policy';
import { ReleaseSerializer } from './release.serializer';
import { ReleaseSerializerV11 } from './release-v11.serializer';
import { visibleArtifactIds } from './artifact-visibility';
import { artifactV11, ArtifactSerializerV11 } from './artifact-view';
import { ReleaseStatusService } from './release-status.service';
import { parseStrictVersion, precedenceColumns, semverColumns } from './semver';
import { whereListFilters } from './release-list-filters';
import type { ReleaseFilters } from './release-list-filters';
import { NO_PRODUCT_ID, ProductDirectory, resolveProductRef } from '../products/product-ref';
import { findPackageRef } from '../packages/packages.service';

/** `sort=` fields of GET /releases -> the SQL they order by. */
export const RELEASE_SORT: SortColumns = {
  created: ['release.created'],
  version: precedenceColumns('release'),
  // unnamed releases sort first; COALESCE keeps keyset pagination total (NULLs never compare)
  name: ["COALESCE(release.name, '')"],
};

export const RELEASE_INCLUDES = ['product', 'artifact', 'constraints', 'constraints.entitlement'] as const;

/** Names allowed in fields[<type>] for the types a release document can hold. */
export const RELEASE_FIELDSETS: Record<string, readonly string[]> = {
  releases: [...ReleaseSerializer.attributeNames, 'account', 'product', 'constraints', 'artifact'],
  products: [...ProductSerializer.attributeNames, 'account', 'releases', 'licenses'],
  artifacts: [...ArtifactSerializer.attributeNames, 'account', 'release'],
  constraints: [...ConstraintSerializer.attributeNames, 'account', 'release', 'entitlement'],
  entitlements: [...EntitlementSerializer.attributeNames, 'account'],
};

/** 1.1: a release's artifacts come with `include=artifacts` (shown in 1.1's form). */
export const RELEASE_INCLUDES_V11 = ['product', 'artifacts', 'constraints', 'constraints.entitlement'] as const;

export const RELEASE_FIELDSETS_V11: Record<string, readonly string[]> = {
  releases: [...ReleaseSerializerV11.attributeNames, 'account', 'product', 'constraints', 'artifacts'],
  products: RELEASE_FIELDSETS.products,
  artifacts: [...ArtifactSerializerV11.attributeNames, 'account', 'product', 'release', 'constraints'],
  constraints: RELEASE_FIELDSETS.constraints,
  entitlements: RELEASE_FIELDSETS.entitlements,
};

/** `?platform=` / `?filetype=`: what tells apart releases that share a version. */
export interface ReleaseNarrowing {
  platform?: string;
  filetype?: string;
  /** The name is a filename only (never read as a version). */
  filenameOnly?: boolean;
  /** API 1.1 and later: the name may also be a tag, and a version names a 1.1 release first. */
  artifacts?: boolean;
}

/** What `include=` added to a document, and the linkage that ties it to the primary data. */
export interface ReleaseIncluded {
  included: ResourceObject[];
  /** Adds relationship linkage (`data`) for included constraints and artifacts to release resources. */
  link(resources: ResourceObject[]): void;
}

@Injectable()
export class ReleasesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(Release) private readonly releases: Repository<Release>,
    @InjectRepository(ReleaseConstraint) private readonly constraints: Repository<ReleaseConstraint>,
    @InjectRepository(Product) private readonly products: Repository<Product>,
    @InjectRepository(Entitlement) private readonly entitlements: Repository<Entitlement>,
    @InjectRepository(Artifact) private readonly artifacts: Repository<Artifact>,
    private readonly status: ReleaseStatusService,
    private readonly storedFiles: StoredFiles,
    private readonly directory: ProductDirectory,
    private readonly counters: PendingCounts,
    private readonly events: EventsService,
  ) {}

  /** The account's releases that `bearer` may see (ReleaseVisibilityPolicy), as a query on alias `release`. */
  visible(bearer: Bearer, accountId: string): SelectQueryBuilder<Release> {
    const qb = this.releases.createQueryBuilder('release').where('release.account_id = :accountId', { accountId });
    return ReleaseVisibilityPolicy.scope(qb, bearer, 'release');
  }

  /**
   * The product a new release names (relationships.product.data.id: an id or a code), of the
   * account (the directory: the catalogue's, no query), that the caller may publish for.
   */
  private async productToWrite(bearer: Bearer, accountId: string, ref: string): Promise<{ id: string }> {
    const productId = await resolveProductRef(this.directory, accountId, ref);
    // a product token may only publish for its own product, whatever else exists in the account
    if (bearer.kind === 'product' && bearer.productId !== productId) throw ApiError.forbidden('A product token can only create releases of its product');
    if (!(await this.directory.accountProducts(accountId)).has(productId)) throw productNotFound(ref);
    if (!ReleaseVisibilityPolicy.canWriteProduct(bearer, accountId, productId)) throw ApiError.forbidden();
    return { id: productId };
  }

  async create(bearer: Bearer, accountId: string, dto: CreateReleaseDto): Promise<Release> {
    const product = await this.productToWrite(bearer, accountId, dto.productId);
    const version = parseStrictVersion(dto.version)!;
    const values: QueryDeepPartialEntity<Release> = {
      accountId,
      productId: product.id,
      name: dto.name ?? null,
      description: dto.description ?? null,
      version: dto.version,
      ...semverColumns(version),
      channel: dto.channel,
      platform: dto.platform,
      filename: dto.filename,
      filetype: dto.filetype,
      filesize: dto.filesize ?? null,
      signature: dto.signature ?? null,
      checksum: dto.checksum ?? null,
      metadata: dto.metadata ?? {},
      critical: dto.critical ?? false,
      required: dto.required ?? false,
      rolloutPercentage: dto.rolloutPercentage ?? 100,
      status: 'NOT_PUBLISHED',
      downloads: 0,
      upgrades: 0,
      yanked: null,
    };
    return this.db.transaction(async (m) => {
      const release = await insertReturning(m, Release, values).catch((error: unknown) => {
        throw takenError(error, dto.productId);
      });
      await this.events.record(m, accountId, 'release.created', toResource(ReleaseSerializer, release));
      return release;
    });
  }

  /**
   * A 1.1 release (many artifacts): no file of its own; `status` DRAFT (default) or PUBLISHED at
   * creation; `version` unique per product among 1.1 releases, `tag` unique per product.
   */
  async createMulti(bearer: Bearer, accountId: string, dto: CreateReleaseV11Dto): Promise<Release> {
    const product = await this.productToWrite(bearer, accountId, dto.productId);
    const version = parseStrictVersion(dto.version)!;
    const published = dto.status === 'PUBLISHED';
    const packageId = dto.packageId ? await this.packageOf(accountId, product.id, dto.packageId) : null;
    const values: QueryDeepPartialEntity<Release> = {
      accountId,
      productId: product.id,
      name: dto.name ?? null,
      description: dto.description ?? null,
      version: dto.version,
      ...semverColumns(version),
      channel: dto.channel,
      tag: dto.tag ?? null,
      packageId,
      metadata: dto.metadata ?? {},
      critical: dto.critical ?? false,
      required: dto.required ?? false,
      rolloutPercentage: dto.rolloutPercentage ?? 100,
      status: published ? 'PUBLISHED' : 'NOT_PUBLISHED',
      multiArtifact: true,
      downloads: 0,
      upgrades: 0,
      yanked: null,
    };
    return this.db.transaction(async (m) => {
      const release = await insertReturning(m, Release, values).catch((error: unknown) => {
        throw takenError(error, dto.productId);
      });
      const resource = toResource(ReleaseSerializer, release);
      await this.events.recordMany(m, [
        { accountId, event: 'release.created', resource },
        ...(published ? [{ accountId, event: 'release.published' as const, resource }] : []),
      ]);
      return release;
    });
  }

  /** The id of a package of the release's product, by id or key (else 422 at the relationship). */
  private async packageOf(accountId: string, productId: string, ref: string): Promise<string> {
    const found = await findPackageRef(this.db.manager, accountId, ref);
    if (!found || found.productId !== productId) throw ApiError.relationship('package', 'NOT_FOUND', `packages ${ref.slice(0, 64)} is not a package of the release's product`);
    return found.id;
  }

  async list(bearer: Bearer, accountId: string, query: ListQuery, filters: ReleaseFilters): Promise<PageResult<Release>> {
    if (filters.product !== undefined) filters = { ...filters, product: await resolveProductRef(this.directory, accountId, filters.product) };
    if (filters.package !== undefined && !isUuid(filters.package)) {
      // a key; an unknown one matches nothing, as an unknown id does
      filters = { ...filters, package: (await findPackageRef(this.db.manager, accountId, filters.package))?.id ?? NO_PRODUCT_ID };
    }
    const qb = whereListFilters(this.visible(bearer, accountId), filters);
    const page = await paginate(qb, query.page, query.sort, RELEASE_SORT);
    return { ...page, items: page.items.map((r) => this.counters.withPending(r)) };
  }

  /**
   * One release the bearer may see, by UUID or by filename (`product` disambiguates filenames
   * shared by several products). Hidden and unknown alike are 404.
   */
  async findVisible(bearer: Bearer, accountId: string, idOrFilename: string, productRef?: string, narrow: ReleaseNarrowing = {}): Promise<Release> {
    const product = productRef === undefined ? undefined : await resolveProductRef(this.directory, accountId, productRef);
    const qb = this.visible(bearer, accountId);
    if (isUuid(idOrFilename)) qb.andWhere('release.id = :rId', { rId: idOrFilename.toLowerCase() });
    else qb.andWhere('release.filename = :rFilename', { rFilename: idOrFilename });
    if (product !== undefined) qb.andWhere('release.product_id = :rProduct', { rProduct: product.toLowerCase() });
    const rows = await qb.orderBy('release.created', 'DESC').limit(2).getMany();
    if (!rows.length && !narrow.filenameOnly && !isUuid(idOrFilename)) {
      if (narrow.artifacts) {
        // 1.1: a tag, then the 1.1 release of that version (unique per product), then 1.0's lookups
        const named = await this.findVisibleByTagOrVersion(bearer, accountId, idOrFilename, product);
        if (named) return named;
      }
      if (parseStrictVersion(idOrFilename)) return this.findVisibleByVersion(bearer, accountId, idOrFilename, product, narrow);
    }
    if (!rows.length) throw ApiError.notFound('The release was not found');
    if (rows.length > 1) throw ApiError.invalidParameter('product', 'several releases have this filename: pass ?product= to choose one');
    return this.counters.withPending(rows[0]);
  }

  /** 1.1's names of a release: its tag, or the version of a 1.1 release (`product` narrows); null when neither names one. */
  private async findVisibleByTagOrVersion(bearer: Bearer, accountId: string, name: string, product: string | undefined): Promise<Release | null> {
    const byTag = this.visible(bearer, accountId).andWhere('release.tag = :rTag', { rTag: name });
    if (product !== undefined) byTag.andWhere('release.product_id = :rProduct', { rProduct: product.toLowerCase() });
    const tagged = await byTag.orderBy('release.created', 'DESC').limit(2).getMany();
    if (tagged.length > 1) throw ApiError.invalidParameter('product', 'several releases have this tag: pass ?product= to choose one');
    if (tagged.length) return this.counters.withPending(tagged[0]);
    if (!parseStrictVersion(name)) return null;
    const byVersion = this.visible(bearer, accountId).andWhere('release.multi_artifact AND release.version = :rVersion', { rVersion: name });
    if (product !== undefined) byVersion.andWhere('release.product_id = :rProduct', { rProduct: product.toLowerCase() });
    const versioned = await byVersion.orderBy('release.created', 'DESC').limit(2).getMany();
    if (versioned.length > 1) throw ApiError.invalidParameter('product', 'several releases have this version: pass ?product= to choose one');
    return versioned.length ? this.counters.withPending(versioned[0]) : null;
  }

  /** The visible release whose file has this name (the account-level artifact route). */
  async findVisibleByFilename(bearer: Bearer, accountId: string, filename: string, productRef?: string): Promise<Release> {
    // a rejection, not a throw: callers catch the 404 on the promise (an id is not a filename)
    if (isUuid(filename)) throw ApiError.notFound('The artifact was not found');
    return this.findVisible(bearer, accountId, filename, productRef, { filenameOnly: true });
  }

  /**
   * Keygen's lookup by version (`GET /releases/1.2.0?product=...`): the one visible release with
   * that version; `product`, `platform` and `filetype` pick among several (else 400 naming the
   * parameter that would tell them apart).
   */
  private async findVisibleByVersion(bearer: Bearer, accountId: string, version: string, product: string | undefined, narrow: ReleaseNarrowing): Promise<Release> {
    const qb = this.visible(bearer, accountId).andWhere('release.version = :rVersion', { rVersion: version });
    if (product !== undefined) qb.andWhere('release.product_id = :rProduct', { rProduct: product });
    if (narrow.platform !== undefined) qb.andWhere('release.platform = :rPlatform', { rPlatform: narrow.platform });
    if (narrow.filetype !== undefined) qb.andWhere('release.filetype = :rFiletype', { rFiletype: narrow.filetype });
    const rows = await qb.orderBy('release.created', 'DESC').limit(2).getMany();
    if (!rows.length) throw ApiError.notFound('The release was not found');
    if (rows.length > 1) {
      const parameter = product === undefined && rows[0].productId !== rows[1].productId ? 'product' : rows[0].platform !== rows[1].platform ? 'platform' : 'filetype';
      throw ApiError.invalidParameter(parameter, `several releases have this version: pass ?${parameter}= to choose one`);
    }
    return this.counters.withPending(rows[0]);
  }

  /** A release the bearer may change: hidden 404, visible but not writable 403. */
  async findWritable(bearer: Bearer, accountId: string, idOrFilename: string, narrow: ReleaseNarrowing = {}): Promise<Release> {
    const release = await this.findVisible(bearer, accountId, idOrFilename, undefined, narrow);
    if (!ReleaseVisibilityPolicy.canWrite(bearer, release)) throw ApiError.forbidden();
    return release;
  }

  /** Applies a PATCH to a release obtained from findWritable. */
  async update(release: Release, dto: UpdateReleaseDto | UpdateReleaseV11Dto): Promise<Release> {
    const changes: QueryDeepPartialEntity<Release> = {};
    if ('tag' in dto && dto.tag !== undefined) changes.tag = dto.tag;
    if ('packageId' in dto && dto.packageId !== undefined) changes.packageId = dto.packageId === null ? null : await this.packageOf(release.accountId, release.productId, dto.packageId);
    if (dto.name !== undefined) changes.name = dto.name;
    if (dto.description !== undefined) changes.description = dto.description;
    if ('filesize' in dto && dto.filesize !== undefined) changes.filesize = dto.filesize;
    if ('signature' in dto && dto.signature !== undefined) changes.signature = dto.signature;
    if ('checksum' in dto && dto.checksum !== undefined) changes.checksum = dto.checksum;
    // a PATCH validates with skipMissingProperties, which lets null through: these always have a value
    if (dto.critical === null) throw ApiError.attribute('critical', 'INVALID', 'must be true or false');
    if (dto.rolloutPercentage === null) throw ApiError.attribute('rolloutPercentage', 'INVALID', 'must be an integer from 0 to 100');
    if (dto.required === null) throw ApiError.attribute('required', 'INVALID', 'must be true or false');
    if (dto.critical !== undefined) changes.critical = dto.critical;
    if (dto.required !== undefined) changes.required = dto.required;
    if (dto.rolloutPercentage !== undefined) changes.rolloutPercentage = dto.rolloutPercentage;
    if (dto.metadata !== undefined) {
      if (dto.metadata === null) throw ApiError.attribute('metadata', 'INVALID', 'must be an object');
      changes.metadata = dto.metadata;
    }
    const updated = await this.db.transaction(async (m) => {
      if (!Object.keys(changes).length) return m.findOneOrFail(Release, { where: { id: release.id, accountId: release.accountId } });
      try {
        await m.update(Release, { id: release.id, accountId: release.accountId }, changes);
      } catch (error) {
        throw takenError(error);
      }
      const changed = await m.findOneOrFail(Release, { where: { id: release.id, accountId: release.accountId } });
      await this.events.record(m, release.accountId, 'release.updated', toResource(ReleaseSerializer, changed));
      return changed;
    });
    return this.counters.withPending(updated);
  }

  async remove(bearer: Bearer, accountId: string, id: string, narrow: ReleaseNarrowing = {}): Promise<void> {
    const release = await this.findWritable(bearer, accountId, id, narrow);
    const artifacts = await this.db.transaction(async (m) => {
      // lock the release so that an upload finishing now cannot add a file after we read the artifacts
      await m.query('SELECT id FROM releases WHERE id = $1 AND account_id = $2 FOR UPDATE', [release.id, accountId]);
      const rows = await m.find(Artifact, { where: { releaseId: release.id, accountId } });
      await m.delete(Release, { id: release.id, accountId }); // constraints and artifact rows cascade
      await this.events.record(m, accountId, 'release.deleted', toResource(ReleaseSerializer, release));
      return rows;
    });
    // deleting a release must not leave its file in storage (removeStoredFiles never throws)
    await this.storedFiles.removeStoredFiles(artifacts);
  }

  /** yank / publish through the status machine. */
  async act(bearer: Bearer, accountId: string, id: string, event: 'yank' | 'publish' | 'draft', narrow: ReleaseNarrowing = {}): Promise<Release> {
    const release = await this.findWritable(bearer, accountId, id, narrow);
    return this.counters.withPending(await this.status.apply(accountId, release.id, event));
  }

  /** The product of a visible release (GET /releases/:id/product). */
  async productOf(bearer: Bearer, accountId: string, id: string): Promise<Product> {
    const release = await this.findVisible(bearer, accountId, id);
    return this.products.findOneOrFail({ where: { id: release.productId, accountId } });
  }

  /**
   * Loads what `include=` asks for, in one query per type for the whole page. Everything here is
   * reachable from releases the bearer already sees: its product, its artifact, its constraints
   * (which a license sees only when it holds them all) and their entitlements.
   */
  async included(bearer: Bearer, accountId: string, releases: Release[], include: Set<string>, fields?: Fieldsets): Promise<ReleaseIncluded> {
    const included: ResourceObject[] = [];
    const constraintsOf = new Map<string, ReleaseConstraint[]>();
    const artifactOf = new Map<string, Artifact>();
    const releaseIds = releases.map((r) => r.id);
    if (!releaseIds.length || !include.size) return { included, link: () => undefined };

    if (include.has('product')) {
      const ids = [...new Set(releases.map((r) => r.productId))];
      const products = await this.products.find({ where: { id: In(ids), accountId } });
      included.push(...products.map((p) => toResource(ProductSerializer, p, fields)));
    }
    if (include.has('artifact')) {
      const artifacts = await this.artifacts.find({ where: { releaseId: In(releaseIds), accountId }, order: { created: 'ASC', id: 'ASC' } });
      for (const a of artifacts) {
        // customers only ever see finished uploads; a 1.1 release shows its first artifact (as Keygen does)
        if (!isPrivileged(bearer) && a.status !== 'UPLOADED') continue;
        if (artifactOf.has(a.releaseId) || a.status === 'YANKED') continue;
        artifactOf.set(a.releaseId, a);
        included.push(toResource(ArtifactSerializer, a, fields));
      }
    }
    const artifactsOf = new Map<string, Artifact[]>();
    if (include.has('artifacts')) {
      const artifacts = await this.artifacts.find({ where: { releaseId: In(releaseIds), accountId }, order: { created: 'ASC', id: 'ASC' } });
      const releaseOf = new Map(releases.map((r) => [r.id, r]));
      const visible = await visibleArtifactIds(this.db.manager, bearer, accountId, artifacts);
      for (const a of artifacts) {
        // customers see uploaded artifacts whose own constraints they hold
        if (!visible.has(a.id)) continue;
        artifactsOf.set(a.releaseId, [...(artifactsOf.get(a.releaseId) ?? []), a]);
        included.push(toResource(ArtifactSerializerV11, artifactV11(a, releaseOf.get(a.releaseId)!), fields));
      }
    }
    if (include.has('constraints')) {
      const constraints = await this.constraints.find({ where: { releaseId: In(releaseIds), accountId }, order: { created: 'ASC', id: 'ASC' } });
      for (const c of constraints) constraintsOf.set(c.releaseId, [...(constraintsOf.get(c.releaseId) ?? []), c]);
      included.push(...constraints.map((c) => toResource(ConstraintSerializer, c, fields)));
      if (include.has('constraints.entitlement') && constraints.length) {
        const ids = [...new Set(constraints.map((c) => c.entitlementId))];
        const entitlements = await this.entitlements.find({ where: { id: In(ids), accountId } });
        included.push(...entitlements.map((e) => toResource(EntitlementSerializer, e, fields)));
      }
    }
    return {
      included,
      link: (resources) => {
        for (const r of resources) {
          const rels = r.relationships;
          if (!rels) continue;
          if (include.has('constraints') && rels.constraints) {
            rels.constraints.data = (constraintsOf.get(r.id) ?? []).map((c) => ({ type: 'constraints', id: c.id }));
          }
          if (include.has('artifacts') && rels.artifacts) {
            rels.artifacts.data = (artifactsOf.get(r.id) ?? []).map((a) => ({ type: 'artifacts', id: a.id }));
          }
          if (include.has('artifact') && rels.artifact) {
            const a = artifactOf.get(r.id);
            rels.artifact.data = a ? { type: 'artifacts', id: a.id } : null;
          }
        }
      },
    };
  }

}

/** 422 PRODUCT_NOT_FOUND at the release's product relationship. */
function productNotFound(ref: string): ApiError {
  return ApiError.relationship('product', 'NOT_FOUND', `products ${ref} was not found`);
}

/**
 * unique_violation -> 422 VERSION_TAKEN / FILENAME_TAKEN / TAG_TAKEN; with `productRef`, the
 * product's foreign key (deleted since it was looked up) -> 422 PRODUCT_NOT_FOUND; anything else
 * is rethrown.
 */
function takenError(error: unknown, productRef?: string): unknown {
  // the product was deleted since it was looked up
  if (productRef !== undefined && foreignKeyViolation(error) === 'releases_product_id_fkey') return productNotFound(productRef);
  const constraint = uniqueViolation(error);
  if (constraint === null) return error;
  if (constraint === 'releases_filename_unique') return ApiError.attribute('filename', 'TAKEN', 'is already taken by another release of this product');
  if (constraint === 'releases_tag_unique') return ApiError.attribute('tag', 'TAKEN', 'is already taken by another release of this product');
  if (constraint === 'releases_multi_version_unique') return ApiError.attribute('version', 'TAKEN', 'is already taken by another release of this product and package');
  return ApiError.attribute('version', 'TAKEN', 'is already taken for this product, platform, channel and filetype');
}
