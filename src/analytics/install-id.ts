import { ApiError } from '../jsonapi/errors';
import { queryParam } from '../jsonapi/query';
import type { Query } from '../jsonapi/query';
import { INSTALL_ID_MAX_LENGTH } from '../releases/rollout';

/**
 * `installId`, optional: an app's own id for its installation, any string of 1 to 64 characters.
 * Anonymous callers are counted by it in analytics, and it stands in for a license id in staged
 * rollouts (admins send it to see what that install gets).
 */
export function parseInstallId(query: Query): string | undefined {
  const installId = queryParam(query, 'installId');
  if (installId === undefined) return undefined;
  if (installId.length === 0 || installId.length > INSTALL_ID_MAX_LENGTH) {
    throw ApiError.invalidParameter('installId', `must be 1 to ${INSTALL_ID_MAX_LENGTH} characters`);
  }
  return installId;
}
