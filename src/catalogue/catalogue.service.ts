import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { Account } from '../accounts/account.entity';
import type { Bearer, LicenseFacts } from '../access/bearer';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config';
import { isUuid } from '../jsonapi/ids';
import { keepResourcesWith } from '../jsonapi/serializer';
import { KEPT_RESOURCES } from './kept-resources';
import { License } from '../licenses/license.entity';
import type { DistributionStrategy } from '../access/strategies';
import { Package } from '../packages/package.entity';
import type { ViewerFacts } from '../access/viewer';
import { CountersService } from '../counters/counters.service';
import type { CounterTotals } from '../counters/counters.service';
import { CoherentCache } from './coherent-cache';
import { productPolicyFacts } from '../products/product-policy';
import type { ProductPolicyFacts } from '../products/product-policy';
import { ProductReleases } from './product-releases';
import type { CatalogueRelease } from './product-releases';
import { ARTIFACT_COLUMNS, KeptArtifact, KeptOffer, KeptRelease, RELEASE_COLUMNS } from './kept-rows';
import type { ArtifactRow, ReleaseRow } from './kept-rows';
import { eachRow } from './streamed-rows';

/** What the hot path needs of a product. */
export interface ProductFacts {
  id: string;
  accountId: string;
  code: string | null;
  distributionStrategy: DistributionStrategy;
  /** Its update policy (minimumVersion, rollbackOnYank); null when it sets none (most products). */
  policy: ProductPolicyFacts | null;
}

/**
 * An account's packages (docs/packages.md), as the engines look them up: by id, by key, and by
 * the PEP 503 normal form of the key (pip's names: `Acme_SDK` is `acme-sdk`).
 */
export interface AccountPackages {
  readonly byId: ReadonlyMap<string, Package>;
  readonly byKey: ReadonlyMap<string, Package>;
  readonly byNormalName: ReadonlyMap<string, Package>;
}

/** PEP 503's normal form of a package name: lowercase, runs of `-`, `_`, `.` as one `-`. */
export function normalizePackageName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** A license as the catalogue keeps it: the entity (for the Bearer) and its entitlement ids. */
export interface CachedLicense {
  license: License;
  /** The same license as the memory visibility rule reads it. */
  facts: LicenseFacts;
  /** Its Bearer, once a request has made it (AuthService). */
  bearer?: Bearer;
}

/** What a whole-product answer (a feed) reads: the caller's facts, the product, its releases. */
export interface ProductView {
  viewer: ViewerFacts;
  product: ProductFacts;
  releases: ProductReleases;
}

/** The catalogue's caches, read synchronously by the fast path (keys: accountCacheKey, licenseCacheKey, ids). */
export interface HeldCatalogue {
  readonly accounts: CoherentCache<Account>;
  readonly products: CoherentCache<Map<string, ProductFacts>>;
  readonly productAccounts: CoherentCache<{ accountId: string }>;
  readonly licenses: CoherentCache<CachedLicense>;
  readonly releases: CoherentCache<ProductReleases>;
  readonly packages: CoherentCache<AccountPackages>;
}

/** A product of the account by id (any case) or by code. */
export function productByIdOrCode(products: Map<string, ProductFacts>, idOrCode: string): ProductFacts | undefined {
  const byId = products.get(isUuid(idOrCode) ? idOrCode.toLowerCase() : idOrCode);
  if (byId) return byId;
  for (const p of products.values()) if (p.code !== null && p.code === idOrCode) return p;
  return undefined;
}

/** Entries kept at most, besides the byte budget of release lines. */
const MAX_ACCOUNTS = 10_000;
const MAX_LICENSES = 200_000;

/**
 * The hot path's in-memory catalogue (update checks answered with no database round trip when warm):
 * accounts by id and slug, each account's products (distribution strategy), licenses by
 * (account, key) with their entitlement ids, and per product every release with its
 * constraints and artifact, in release lines ordered by semver precedence.
 *
 * Coherence: the database notifies every change (triggers, see the CatalogueNotifications
 * migration) and CatalogueListener applies them here within milliseconds on every instance; an
 * entry older than CATALOGUE_TTL_SECONDS is reloaded in the background as a safety net. While the
 * listener is not connected nothing is served from memory (`serving` is false) and callers use SQL.
 * Release lines are bounded by CATALOGUE_BUDGET_MB (least recently used products are dropped).
 */
@Injectable()
export class CatalogueService {
  private readonly logger = new Logger('Catalogue');
  private listening = false;
  /** Lookups answered from memory or not, and release rows applied from change notifications. */
  readonly stats = { hits: 0, misses: 0, applied: 0 };

  private readonly accounts: CoherentCache<Account>;
  private readonly products: CoherentCache<Map<string, ProductFacts>>;
  private readonly productAccounts: CoherentCache<{ accountId: string }>;
  private readonly licenses: CoherentCache<CachedLicense>;
  private readonly releases: CoherentCache<ProductReleases>;
  private readonly packages: CoherentCache<AccountPackages>;
  private readonly memory: HeldCatalogue;
  /**
   * license id -> its cache key; release id -> the load of its product that holds it (to apply
   * notifications that name only ids). Keyed to the load, not the product id: a load that replaces
   * another takes its releases over, and the one it replaces must not take them away when it goes.
   */
  private readonly licenseKeys = new Map<string, string>();
  private readonly releaseProducts = new Map<string, ProductReleases>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
    private readonly counters: CountersService,
  ) {
    counters.onTotals((rows) => this.applyCounters(rows));
    keepResourcesWith(KEPT_RESOURCES);
    const ttlMs = config.catalogue.ttlSeconds * 1000;
    const onLookup = (hit: boolean) => (hit ? this.stats.hits++ : this.stats.misses++);
    this.accounts = new CoherentCache({ max: MAX_ACCOUNTS, ttlMs, onLookup, load: (key) => this.loadAccount(key) });
    this.products = new CoherentCache({ max: MAX_ACCOUNTS, ttlMs, onLookup, load: (accountId) => this.loadProducts(accountId) });
    this.productAccounts = new CoherentCache({ max: MAX_LICENSES, ttlMs, onLookup, load: (productId) => this.loadProductAccount(productId) });
    this.licenses = new CoherentCache({
      max: MAX_LICENSES,
      ttlMs,
      onLookup,
      load: (key) => this.loadLicense(key),
      // the id's key is the kept entry's, set when it is kept: a reload (the TTL's) replaces an
      // entry of the same key, and the replaced one leaves first (onRemove) and must not take the
      // key away from its successor, or a later change of the license would not find it
      onStore: (l) => {
        this.licenseKeys.set(l.license.id, licenseCacheKey(l.license.accountId, l.license.key));
      },
      onRemove: (l) => {
        if (this.licenseKeys.get(l.license.id) === licenseCacheKey(l.license.accountId, l.license.key)) this.licenseKeys.delete(l.license.id);
      },
    });
    this.releases = new CoherentCache({
      maxSize: config.catalogue.budgetMb * 1024 * 1024,
      sizeOf: (p) => p.bytes,
      ttlMs,
      onLookup,
      load: (productId) => this.loadReleases(productId),
      // a load's releases are its own once it is kept (a stale load, not kept, takes none)
      onStore: (p) => {
        for (const id of p.byId.keys()) this.releaseProducts.set(id, p);
      },
      onRemove: (p) => {
        for (const id of p.byId.keys()) if (this.releaseProducts.get(id) === p) this.releaseProducts.delete(id);
      },
    });
    this.packages = new CoherentCache({ max: MAX_ACCOUNTS, ttlMs, onLookup, load: (accountId) => this.loadPackages(accountId) });
    this.memory = { accounts: this.accounts, products: this.products, productAccounts: this.productAccounts, licenses: this.licenses, releases: this.releases, packages: this.packages };
  }

  /** Whether answers may come from memory: enabled and kept coherent by a connected listener. */
  get serving(): boolean {
    return this.listening && this.config.catalogue.enabled;
  }

  /** The listener's state; a (re)connected listener starts from an empty catalogue (changes may have been missed). */
  setListening(listening: boolean): void {
    if (listening !== this.listening) this.clear();
    this.listening = listening;
  }

  /** Memory held by release lines, as counted against CATALOGUE_BUDGET_MB, and entry counts. */
  usage(): { releaseBytes: number; products: number; releases: number; licenses: number; accounts: number } {
    let releases = 0;
    for (const p of this.releases.values()) releases += p.byId.size;
    return {
      releaseBytes: this.releases.calculatedSize,
      products: this.releases.size,
      releases,
      licenses: this.licenses.size,
      accounts: this.accounts.size,
    };
  }

  // ---- lookups ----------------------------------------------------------------------------

  /** An account by UUID or slug (null: unknown). */
  account(idOrSlug: string): Promise<Account | null> {
    const key = accountCacheKey(idOrSlug);
    return this.serving ? this.accounts.get(key) : this.loadAccount(key);
  }

  /** The account's products by id. */
  async accountProducts(accountId: string): Promise<Map<string, ProductFacts>> {
    return (await (this.serving ? this.products.get(accountId) : this.loadProducts(accountId))) ?? new Map();
  }

  /** The account's packages (memory when it holds them, else one query). */
  async accountPackages(accountId: string): Promise<AccountPackages> {
    return (await (this.serving ? this.packages.get(accountId) : this.loadPackages(accountId))) ?? NO_PACKAGES;
  }

  /** The account of a product, across accounts (for `/v3`, whose URLs name no account); null: unknown. */
  async productAccount(productId: string): Promise<string | null> {
    if (!isUuid(productId)) return null;
    const found = await (this.serving ? this.productAccounts.get(productId.toLowerCase()) : this.loadProductAccount(productId.toLowerCase()));
    return found?.accountId ?? null;
  }

  /** A license by key inside an account (null: unknown). */
  license(accountId: string, key: string): Promise<CachedLicense | null> {
    const cacheKey = licenseCacheKey(accountId, key);
    return this.serving ? this.licenses.get(cacheKey) : this.loadLicense(cacheKey);
  }

  /**
   * A license by id inside an account (null: unknown), kept by key like `license`: memory when it
   * holds the license, else its key is read and the license loaded (and kept) by key.
   */
  async licenseById(accountId: string, licenseId: string): Promise<CachedLicense | null> {
    const cacheKey = this.serving ? this.licenseKeys.get(licenseId) : undefined;
    if (cacheKey?.startsWith(`${accountId}:`)) {
      const held = await this.licenses.get(cacheKey);
      if (held?.license.id === licenseId) return held;
    }
    const rows: Array<{ key: string }> = await this.db.query('SELECT key FROM licenses WHERE id = $1 AND account_id = $2', [licenseId, accountId]);
    if (!rows.length) return null;
    const found = await this.license(accountId, rows[0].key);
    return found?.license.id === licenseId ? found : null;
  }

  /**
   * Every release of a product of this account, or null when the product is not the account's.
   * Undefined when the catalogue is not serving: the caller uses SQL.
   */
  async productReleases(accountId: string, productId: string): Promise<ProductReleases | null | undefined> {
    if (!this.serving) return undefined;
    const releases = await this.releases.get(productId);
    if (!releases) return null;
    return releases.accountId === accountId ? releases : null;
  }

  // ---- what memory holds now (the fast path's synchronous reads: fastpath/warm.ts) ----------

  /** The caches as they are, for synchronous reads that never load; null while not serving. */
  get held(): HeldCatalogue | null {
    return this.serving ? this.memory : null;
  }

  /**
   * The facts the memory visibility rule needs about a caller (ReleaseVisibilityPolicy.sees), or
   * undefined when the catalogue is not serving.
   */
  async viewer(bearer: Bearer, accountId: string): Promise<ViewerFacts | undefined> {
    if (!this.serving) return undefined;
    const products = await this.accountProducts(accountId);
    let licenses: LicenseFacts[] = [];
    if (bearer.kind === 'license' && bearer.facts) {
      licenses = [bearer.facts];
    } else if (bearer.kind === 'license') {
      const cached = await this.license(accountId, bearer.license.key);
      if (!cached || cached.license.id !== bearer.license.id) return undefined;
      licenses = [cached.facts];
    } else if (bearer.kind === 'user') {
      licenses = await this.licensesOfUser(accountId, bearer.userId);
    }
    return { bearer, licenses, strategyOf: (id) => products.get(id)?.distributionStrategy };
  }

  /** A user's licenses with their entitlements (one query; users are not cached). */
  async licensesOfUser(accountId: string, userId: string): Promise<LicenseFacts[]> {
    const rows: Array<{ id: string; product_id: string; expiry: Date | null; expiration_strategy: LicenseFacts['expirationStrategy']; suspended: boolean; version_pin: string | null; entitlement_ids: string[] }> =
      await this.db.query(
        `SELECT l.id, l.product_id, l.expiry, l.expiration_strategy, l.suspended, l.version_pin,
                ARRAY(SELECT le.entitlement_id::text FROM license_entitlements le WHERE le.license_id = l.id) AS entitlement_ids
           FROM licenses l WHERE l.account_id = $1 AND l.user_id = $2`,
        [accountId, userId],
      );
    return rows.map((r) => ({
      id: r.id,
      productId: r.product_id,
      expiry: r.expiry,
      expirationStrategy: r.expiration_strategy,
      suspended: r.suspended,
      entitlementIds: new Set(r.entitlement_ids),
      versionPin: r.version_pin,
    }));
  }

  // ---- whole-product answers (feeds): the memory rule over the catalogue, or over a fresh load ----

  /**
   * The caller's facts and a product's releases (named by id or code; null: not the account's),
   * loading what memory does not hold; when the catalogue is not serving, from a fresh snapshot of
   * the database (nothing kept), so that answers never depend on the cache.
   */
  async productView(bearer: Bearer, accountId: string, product: string): Promise<ProductView | null> {
    const products = await this.accountProducts(accountId);
    const facts = productByIdOrCode(products, product);
    if (!facts) return null;
    let viewer = await this.viewer(bearer, accountId);
    if (!viewer) {
      let licenses: readonly LicenseFacts[] = NO_LICENSES;
      if (bearer.kind === 'license') {
        const loaded = bearer.facts ? { facts: bearer.facts } : await this.loadLicense(licenseCacheKey(accountId, bearer.license.key));
        licenses = loaded ? [loaded.facts] : NO_LICENSES;
      } else if (bearer.kind === 'user') licenses = await this.licensesOfUser(accountId, bearer.userId);
      viewer = { bearer, licenses, strategyOf: (id) => products.get(id)?.distributionStrategy };
    }
    const releases = this.serving ? await this.releases.get(facts.id) : await this.loadReleases(facts.id);
    if (!releases || releases.accountId !== accountId) return null;
    return { viewer, product: facts, releases };
  }

  // ---- coherence --------------------------------------------------------------------------

  /**
   * Applies one `shipgate_catalogue` notification (see the CatalogueNotifications and
   * CatalogueRowNotifications migrations). Changes to releases, their constraints and artifacts
   * name the rows: those are read again and put in place in the product held in memory (no reload
   * of the product); the other kinds drop the entries they name. The listener applies
   * notifications one at a time, in commit order.
   */
  async applyChange(payload: string): Promise<void> {
    if (payload === '*') return this.clear();
    const [kind, accountId, id, list] = payload.split(':');
    switch (kind) {
      case 'a':
        this.accounts.invalidateWhere((a) => a.id === accountId);
        // accounts are loaded by id or by slug: a running load of either may have read the row before the change
        this.accounts.invalidateLoading();
        this.products.invalidate(accountId);
        return;
      case 'p':
        this.products.invalidate(accountId);
        this.productAccounts.invalidate(id);
        return;
      case 'l': {
        const key = this.licenseKeys.get(id);
        if (key) this.licenses.invalidate(key);
        // a license not held may be being loaded right now (its id is known only once it is kept):
        // the account's running license loads may have read it before the change, and are not kept
        else this.licenses.invalidateLoading((k) => k.startsWith(`${accountId}:`));
        return;
      }
      case 'k':
        this.packages.invalidate(accountId);
        return;
      case 'r':
        // many rows in one statement: the product is read again whole when next asked for
        this.releases.invalidate(id);
        return;
      case 'R':
      case 'X':
        return this.applyRows([payload]);
      default:
        this.logger.warn(`unknown catalogue notification ${JSON.stringify(payload.slice(0, 40))}: clearing`);
        this.clear();
    }
  }

  /**
   * Applies `R` and `X` notifications (a run of them, in the order they came): the releases they
   * name are read again, per product at once, and put in place.
   */
  async applyRows(payloads: readonly string[]): Promise<void> {
    const byProduct = new Map<string, Set<string>>();
    const add = (productId: string, releaseId: string) => {
      const ids = byProduct.get(productId);
      if (ids) ids.add(releaseId);
      else byProduct.set(productId, new Set([releaseId]));
    };
    for (const payload of payloads) {
      const [kind, , id, list] = payload.split(':');
      if (kind === 'R') {
        for (const releaseId of list.split(',')) add(id, releaseId);
        continue;
      }
      for (const releaseId of id.split(',')) {
        const productId = this.releaseProducts.get(releaseId)?.productId;
        // a release not seen yet may belong to a product being loaded right now
        if (!productId) this.releases.invalidateLoading();
        else add(productId, releaseId);
      }
    }
    await Promise.all([...byProduct].map(([productId, ids]) => this.applyReleases(productId, [...ids])));
  }

  /** Reads these releases again and puts them in place in the product held in memory (if it is). */
  private async applyReleases(productId: string, ids: readonly string[]): Promise<void> {
    // a load that is running may have read the rows before the change: it answers its callers, and is not kept
    this.releases.invalidateLoad(productId);
    const held = this.releases.peek(productId);
    if (!held) return;
    let fresh: CatalogueRelease[];
    try {
      fresh = await this.readEntries(this.db.manager, held.accountId, productId, ids);
    } catch (error) {
      this.logger.warn(`reading changed releases failed (${(error as Error).message}): product ${productId} will be read again`);
      this.releases.invalidate(productId);
      return;
    }
    // dropped or loaded again meanwhile (a load that started after the change has it)
    if (this.releases.peek(productId) !== held) return;
    held.apply(ids, fresh);
    for (const releaseId of ids) if (this.releaseProducts.get(releaseId) === held) this.releaseProducts.delete(releaseId);
    for (const e of fresh) this.releaseProducts.set(e.release.id, held);
    this.releases.resize(productId);
    this.stats.applied += ids.length;
  }

  /** Flushed totals (counters only grow): raised on the releases held in memory. */
  private applyCounters(rows: readonly CounterTotals[]): void {
    for (const row of rows) {
      const load = this.releaseProducts.get(row.id);
      const release = load && this.releases.peek(load.productId)?.byId.get(row.id)?.release;
      if (!release) continue;
      if (row.downloads > release.downloads) release.downloads = row.downloads;
      if (row.upgrades > release.upgrades) release.upgrades = row.upgrades;
    }
  }

  clear(): void {
    this.accounts.clear();
    this.products.clear();
    this.productAccounts.clear();
    this.licenses.clear();
    this.releases.clear();
    this.packages.clear();
  }

  // ---- loaders ----------------------------------------------------------------------------

  private async loadAccount(key: string): Promise<Account | null> {
    const [by, value] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
    return this.db.getRepository(Account).findOne({ where: by === 'id' ? { id: value } : { slug: value } });
  }

  private async loadProducts(accountId: string): Promise<Map<string, ProductFacts>> {
    const rows: Array<{ id: string; code: string | null; distribution_strategy: DistributionStrategy; minimum_version: string | null; rollback_on_yank: boolean }> = await this.db.query(
      'SELECT id, code, distribution_strategy, minimum_version, rollback_on_yank FROM products WHERE account_id = $1',
      [accountId],
    );
    return new Map(
      rows.map((r) => [r.id, { id: r.id, accountId, code: r.code, distributionStrategy: r.distribution_strategy, policy: productPolicyFacts(r.minimum_version, r.rollback_on_yank) }]),
    );
  }

  private async loadPackages(accountId: string): Promise<AccountPackages> {
    const rows = await this.db.manager.find(Package, { where: { accountId } });
    return {
      byId: new Map(rows.map((p) => [p.id, p])),
      byKey: new Map(rows.map((p) => [p.key, p])),
      byNormalName: new Map(rows.map((p) => [normalizePackageName(p.key), p])),
    };
  }

  private async loadProductAccount(productId: string): Promise<{ accountId: string } | null> {
    const rows: Array<{ account_id: string }> = await this.db.query('SELECT account_id FROM products WHERE id = $1', [productId]);
    return rows.length ? { accountId: rows[0].account_id } : null;
  }

  private async loadLicense(cacheKey: string): Promise<CachedLicense | null> {
    const colon = cacheKey.indexOf(':');
    const accountId = cacheKey.slice(0, colon);
    const key = cacheKey.slice(colon + 1);
    const license = await this.db.getRepository(License).findOne({ where: { accountId, key } });
    if (!license) return null;
    const rows: Array<{ entitlement_id: string }> = await this.db.query(
      'SELECT entitlement_id FROM license_entitlements WHERE license_id = $1 AND account_id = $2',
      [license.id, accountId],
    );
    const facts: LicenseFacts = {
      id: license.id,
      productId: license.productId,
      expiry: license.expiry,
      expirationStrategy: license.expirationStrategy,
      suspended: license.suspended,
      entitlementIds: new Set(rows.map((r) => r.entitlement_id)),
      versionPin: license.versionPin,
    };
    return { license, facts };
  }

  /** One consistent snapshot of a product's releases, constraints and artifacts. */
  private async loadReleases(productId: string): Promise<ProductReleases | null> {
    return this.db.transaction('REPEATABLE READ', async (m) => {
      const product: Array<{ account_id: string }> = await m.query('SELECT account_id FROM products WHERE id = $1', [productId]);
      if (!product.length) return null;
      const accountId = product[0].account_id;
      const loaded = new ProductReleases(accountId, productId, await this.readProduct(m, accountId, productId));
      return loaded;
    });
  }

  /**
   * Every release of a product, LOAD_CHUNK rows per query (keyset on id, inside the load's
   * snapshot) each with its artifacts and constraints, yielding to the event loop between chunks:
   * a load of a large product, which runs only when a product is first asked for or as the TTL's
   * safety net, never holds up the requests of other products for long.
   */
  private async readProduct(m: EntityManager, accountId: string, productId: string): Promise<CatalogueRelease[]> {
    const entries: CatalogueRelease[] = [];
    for (let after: string | null = null; ; ) {
      const chunk = await this.readRows(
        m,
        accountId,
        `r.product_id = $1 AND r.account_id = $2${after === null ? '' : ' AND r.id > $3'} ORDER BY r.id LIMIT ${LOAD_CHUNK}`,
        after === null ? [productId, accountId] : [productId, accountId, after],
      );
      for (const e of chunk) entries.push(e);
      if (chunk.length < LOAD_CHUNK) return entries;
      after = chunk[chunk.length - 1].release.id;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /**
   * The releases of `ids` (the ones a change notification names), as the catalogue keeps them: the
   * ids are known, so both queries go out at once (one wait for the listener, which a write's
   * answer waits for). They may run on different connections: a row another commit changed between
   * the two is named by that commit's notification, applied next.
   */
  private readEntries(m: EntityManager, accountId: string, productId: string, ids: readonly string[]): Promise<CatalogueRelease[]> {
    return this.readRows(m, accountId, 'r.product_id = $1 AND r.account_id = $2 AND r.id = ANY($3)', [productId, accountId, [...ids]], ids);
  }

  /**
   * The releases `where` selects (a condition on `releases r`, then its ORDER BY and LIMIT) with
   * their artifacts, each row with its constraints (the entitlements it requires), as the catalogue
   * keeps them (kept-rows.ts), in that order. With `ids` (the releases are named), the artifacts
   * are read alongside the releases; otherwise once the releases are known.
   */
  private async readRows(m: EntityManager, accountId: string, where: string, params: unknown[], ids?: readonly string[]): Promise<CatalogueRelease[]> {
    const releases = new Map<string, KeptRelease>();
    const required = new Map<string, string[]>();
    const readReleases = eachRow<ReleaseRow & Constrained>(m, `SELECT ${RELEASE_COLUMNS}, ${constraintsOf('release_constraints', 'release_id', 'r')} FROM releases r WHERE ${where}`, params, (row) => {
      const release = new KeptRelease(row);
      // a flush that landed while this snapshot was read is not in it
      const flushed = this.counters.recentTotals(release.id);
      if (flushed) {
        release.downloads = Math.max(release.downloads, flushed.downloads);
        release.upgrades = Math.max(release.upgrades, flushed.upgrades);
      }
      releases.set(release.id, release);
      if (row.entitlement_ids.length) required.set(release.id, row.entitlement_ids);
    });
    if (!ids) {
      await readReleases;
      if (!releases.size) return [];
    }
    const rowParams = [ids ? [...ids] : [...releases.keys()], accountId];
    const artifactsOf = new Map<string, KeptArtifact[]>();
    const artifactRequired = new Map<string, string[]>();
    const keep = (row: ArtifactRow & Constrained): void => {
      const release = releases.get(row.release_id);
      const a = new KeptArtifact(row, release);
      if (release && a.status === 'UPLOADED' && release.uploaded === null) release.uploaded = a;
      if (row.entitlement_ids.length) artifactRequired.set(a.id, row.entitlement_ids);
      const list = artifactsOf.get(a.releaseId);
      if (list) list.push(a);
      else artifactsOf.set(a.releaseId, [a]);
    };
    // a load keeps each row as it arrives (kept-rows.ts); a change's rows wait for their releases
    const artifactRows: Array<ArtifactRow & Constrained> = [];
    // named releases: both queries at once, each on a connection of the pool (one wait); a load's
    // queries share its transaction's connection (it has read the releases first)
    await Promise.all([
      readReleases,
      // oldest first (created, id: the artifact_offers view's order): a release's first artifact is
      // what 1.0 shows of a 1.1 release, its first uploaded one's SHA-256 the release's artifactSha256
      eachRow<ArtifactRow & Constrained>(
        m,
        `SELECT ${ARTIFACT_COLUMNS}, ${constraintsOf('artifact_constraints', 'artifact_id', 'x')} FROM artifacts x WHERE x.release_id = ANY($1) AND x.account_id = $2 ORDER BY x.created, x.id`,
        rowParams,
        (row) => {
          if (ids) artifactRows.push(row);
          else keep(row);
        },
      ),
    ]);
    for (const row of artifactRows) keep(row);
    const entries: CatalogueRelease[] = [];
    for (const release of releases.values()) {
      const entitlementIds = required.get(release.id) ?? NO_ENTITLEMENTS;
      const files = artifactsOf.get(release.id) ?? [];
      if (!release.multiArtifact) {
        entries.push({ release, entitlementIds, artifact: files[0] ?? null });
        continue;
      }
      const offers: CatalogueRelease[] = [];
      for (const a of files) {
        if (a.status !== 'UPLOADED') continue;
        const own = artifactRequired.get(a.id);
        offers.push({ release: new KeptOffer(release, a), entitlementIds: own ? [...entitlementIds, ...own] : entitlementIds, artifact: a });
      }
      // a 1.1 release's artifacts that are not yanked: the list filters read their platforms and file types
      const live = files.filter((a) => a.status !== 'YANKED');
      entries.push({ release, entitlementIds, artifact: live[0] ?? null, offers, liveArtifacts: live.length ? live : NO_ARTIFACTS });
    }
    return entries;
  }
}

export const NO_LICENSES: readonly LicenseFacts[] = [];
const NO_PACKAGES: AccountPackages = { byId: new Map(), byKey: new Map(), byNormalName: new Map() };

/** The artifacts of the 1.1 releases that have none (drafts being prepared): one shared, frozen array. */
const NO_ARTIFACTS: readonly KeptArtifact[] = Object.freeze([]);

/** The entitlements of the many releases without constraints: one shared, frozen array. */
const NO_ENTITLEMENTS: readonly string[] = Object.freeze([]);

/** A row's constraints, read with it: the entitlements it requires (uuid[]: node-postgres gives strings). */
interface Constrained {
  entitlement_ids: string[];
}

/** The `entitlement_ids` column of a release (`r`) or an artifact (`x`) row: its constraints, by the unique index on (id, entitlement). */
function constraintsOf(table: 'release_constraints' | 'artifact_constraints', column: 'release_id' | 'artifact_id', alias: 'r' | 'x'): string {
  return `ARRAY(SELECT c.entitlement_id FROM ${table} c WHERE c.${column} = ${alias}.id AND c.account_id = ${alias}.account_id) AS entitlement_ids`;
}

/** Release rows per query of a whole-product load. */
const LOAD_CHUNK = 2000;

export function accountCacheKey(idOrSlug: string): string {
  return isUuid(idOrSlug) ? `id:${idOrSlug.toLowerCase()}` : `slug:${idOrSlug.toLowerCase()}`;
}

export function licenseCacheKey(accountId: string, key: string): string {
  return `${accountId}:${key}`;
}
