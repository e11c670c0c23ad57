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
 * The products of an account by id, with their codes: what resolves a product code. Provided by
 * the catalogue (memory when it holds them, else one query).
 */
export abstract class ProductDirectory {
  abstract accountProducts(accountId: string): Promise<ReadonlyMap<string, { id: string; code: string | null }>>;
}

/**
 * The product id named by `ref` in an account: a UUID is the id itself (no lookup), anything else
 * is a product `code`, looked up in the directory. An unknown code is NO_PRODUCT_ID. Whether the
 * caller may see the product is decided afterwards, as for an id.
 */
export async function resolveProductRef(directory: ProductDirectory, accountId: string, ref: string, parameter = 'product'): Promise<string> {
  if (isUuid(ref)) return ref.toLowerCase();
  assertProductRef(ref, parameter);
  for (const p of (await directory.accountProducts(accountId)).values()) if (p.code === ref) return p.id;
  return NO_PRODUCT_ID;
}
