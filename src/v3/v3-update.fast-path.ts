import type { Bearer } from '../access/bearer';
import type { NotWarm } from '../common/not-warm';
import type { V3UpdateQuery } from './v3-params';

/**
 * `GET /v3/releases/update` answered from memory: the JSON V3Service.update answers (null: 204),
 * or NOT_WARM. Implemented by the fast-path layer.
 */
export abstract class V3UpdateFastPath {
  abstract update(bearer: Bearer, accountId: string, query: V3UpdateQuery): string | null | NotWarm;
}
