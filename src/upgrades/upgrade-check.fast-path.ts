import type { Bearer } from '../access/bearer';
import type { NotWarm } from '../common/not-warm';
import type { UpgradeCheck } from './upgrade-params';
import type { UpgradeAnswer } from './upgrades.service';

/**
 * `GET /releases/actions/upgrade` answered from memory: what UpgradesService.check answers (the
 * check and the upgrade counted alike), or NOT_WARM. Implemented by the fast-path layer.
 */
export abstract class UpgradeCheckFastPath {
  abstract check(bearer: Bearer, accountId: string, check: UpgradeCheck): UpgradeAnswer | null | NotWarm;
}
