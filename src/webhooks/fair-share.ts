export interface SlotCandidate {
  endpointId: string;
  accountId: string;
  /** Deliveries of this endpoint that may start now. */
  capacity: number;
}

/**
 * Hands out `free` delivery slots one at a time, in rounds: accounts take turns in the order of
 * `candidates` (least recently served first), and within an account its endpoints take turns.
 * An endpoint gets at most its capacity; an account at most `accountCap` slots including the
 * `busy` ones it holds already. So a tenant with many due deliveries, or many endpoints, cannot
 * take every slot while another tenant has a delivery due. Returns slots per endpoint id.
 */
export function shareSlots(candidates: readonly SlotCandidate[], free: number, accountCap: number, busy: ReadonlyMap<string, number> = new Map()): Map<string, number> {
  const byAccount = new Map<string, SlotCandidate[]>();
  for (const c of candidates) {
    if (c.capacity <= 0) continue;
    const list = byAccount.get(c.accountId);
    if (list) list.push(c);
    else byAccount.set(c.accountId, [c]);
  }
  const given = new Map<string, number>();
  const held = new Map([...byAccount.keys()].map((a) => [a, busy.get(a) ?? 0]));
  const next = new Map([...byAccount.keys()].map((a) => [a, 0]));
  let left = free;
  let progress = true;
  while (left > 0 && progress) {
    progress = false;
    for (const [account, endpoints] of byAccount) {
      if (left === 0) break;
      if (held.get(account)! >= accountCap) continue;
      // this account's next endpoint, in turn, that has room left
      const start = next.get(account)!;
      for (let i = 0; i < endpoints.length; i++) {
        const e = endpoints[(start + i) % endpoints.length];
        if ((given.get(e.endpointId) ?? 0) >= e.capacity) continue;
        given.set(e.endpointId, (given.get(e.endpointId) ?? 0) + 1);
        held.set(account, held.get(account)! + 1);
        next.set(account, (start + i + 1) % endpoints.length);
        left--;
        progress = true;
        break;
      }
    }
  }
  return given;
}
