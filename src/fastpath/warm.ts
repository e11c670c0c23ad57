import { Injectable } from '@nestjs/common';
import type { Bearer, LicenseFacts } from '../access/bearer';
import type { ViewerFacts } from '../access/viewer';
import type { Account } from '../accounts/account.entity';
import { licenseBearer } from '../auth/auth.service';
import { accountCacheKey, CatalogueService, licenseCacheKey, NO_LICENSES, productByIdOrCode } from '../catalogue/catalogue.service';
import type { ProductFacts, ProductView } from '../catalogue/catalogue.service';
import type { ProductReleases } from '../catalogue/product-releases';
import { isUuid } from '../jsonapi/ids';

/**
 * The catalogue read synchronously: what memory holds now, or undefined ("not warm") — never a
 * load. A miss starts the load in the background (prefetch), so that the next request is warm
 * while this one is answered by the ordinary async service.
 */
@Injectable()
export class WarmCatalogue {
  constructor(private readonly catalogue: CatalogueService) {}

  /** An account by UUID or slug. */
  account(idOrSlug: string): Account | undefined {
    const held = this.catalogue.held;
    const key = accountCacheKey(idOrSlug);
    const account = held?.accounts.held(key);
    if (held && !account) held.accounts.prefetch(key);
    return account;
  }

  /** The account of a product (the `/v3` routes name no account). */
  productAccount(productId: string): string | undefined {
    const held = this.catalogue.held;
    if (!held || !isUuid(productId)) return undefined;
    const key = productId.toLowerCase();
    const found = held.productAccounts.held(key);
    if (!found) held.productAccounts.prefetch(key);
    return found?.accountId;
  }

  /**
   * A license key's Bearer inside an account; undefined when memory does not hold the key.
   * Throws as authentication does (suspended, revoked by expiry).
   */
  licenseBearer(accountId: string, key: string): Bearer | undefined {
    const held = this.catalogue.held;
    const cacheKey = licenseCacheKey(accountId, key);
    const cached = held?.licenses.held(cacheKey);
    if (held && !cached) held.licenses.prefetch(cacheKey);
    return cached && licenseBearer(cached);
  }

  /** The caller's facts for the memory visibility rule (a user's licenses take a query: never warm). */
  viewer(bearer: Bearer, accountId: string): ViewerFacts | undefined {
    const held = this.catalogue.held;
    if (!held || bearer.kind === 'user') return undefined;
    const products = held.products.held(accountId);
    if (!products) {
      held.products.prefetch(accountId);
      return undefined;
    }
    let licenses: readonly LicenseFacts[] = NO_LICENSES;
    if (bearer.kind === 'license') {
      if (!bearer.facts) return undefined;
      licenses = [bearer.facts];
    }
    return { bearer, licenses, strategyOf: (id) => products.get(id)?.distributionStrategy };
  }

  /** The account's products by id. */
  accountProducts(accountId: string): ReadonlyMap<string, ProductFacts> | undefined {
    const held = this.catalogue.held;
    const products = held?.products.held(accountId);
    if (held && !products) held.products.prefetch(accountId);
    return products;
  }

  /** A product's releases; null when the product is not the account's. */
  productReleases(accountId: string, productId: string): ProductReleases | null | undefined {
    const held = this.catalogue.held;
    const releases = held?.releases.held(productId);
    if (!releases) {
      if (held && isUuid(productId)) held.releases.prefetch(productId.toLowerCase());
      return undefined;
    }
    return releases.accountId === accountId ? releases : null;
  }

  /** The caller's facts and a product's releases (named by id or code); null: not the account's. */
  productView(bearer: Bearer, accountId: string, product: string): ProductView | null | undefined {
    const viewer = this.viewer(bearer, accountId);
    const products = viewer && this.catalogue.held?.products.held(accountId);
    if (!viewer || !products) return undefined;
    const facts = productByIdOrCode(products, product);
    if (!facts) return null;
    const releases = this.productReleases(accountId, facts.id);
    if (releases === undefined) return undefined;
    return releases ? { viewer, product: facts, releases } : null;
  }
}
