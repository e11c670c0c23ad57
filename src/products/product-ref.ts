import type { CatalogueService } from '../catalogue/catalogue.service';
import { ApiError } from '../jsonapi/errors';
import { isUuid } from '../jsonapi/ids';

/**
 * The id a `?product=` value stands for when it is a code that no product of the account has:
 * a well-formed UUID that no row holds, so that filters match nothing and lookups are 404, exactly
 * as for an unknown product id.
 */
export const NO_PRODUCT_ID = '00000000-0000-0000-0000-000000000000';

/** A `?product=` value: a product id (UUID) or a product's `code`. */
export function assertProductRef(value: string, parameter = 'product'): void {
  if (value.trim() === '' || value.length > 255) throw ApiError.invalidParameter(parameter, 'must be a product id or a product code');
}

/**
 * The product id named by `ref` in an account: a UUID is the id itself (no lookup, answered
 * synchronously), anything else is a product `code`, looked up among the account's products that
 * the catalogue keeps in memory (one query when it does not hold them). An unknown code is
 * NO_PRODUCT_ID. Whether the caller may see the product is decided afterwards, as for an id.
 */
export function resolveProductRef(catalogue: CatalogueService, accountId: string, ref: string, parameter = 'product'): string | Promise<string> {
  if (isUuid(ref)) return ref.toLowerCase();
  assertProductRef(ref, parameter);
  return catalogue.accountProducts(accountId).then((products) => {
    for (const p of products.values()) if (p.code === ref) return p.id;
    return NO_PRODUCT_ID;
  });
}
