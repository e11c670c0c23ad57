/**
 * The circuit breaker of one webhook endpoint. `closed`: deliveries are attempted (at most the
 * endpoint's concurrency at once). After `threshold` consecutive failed attempts it is `open`: its
 * pending deliveries are postponed to `nextProbe` and none is attempted. When the probe is due, one
 * delivery is attempted alone (`half-open`): success closes the circuit, failure opens it again
 * with a wait twice as long (up to an hour).
 */
export const CIRCUITS = ['closed', 'open', 'half-open'] as const;
export type Circuit = (typeof CIRCUITS)[number];

export interface CircuitRules {
  /** Consecutive failed attempts that open a closed circuit. */
  threshold: number;
  /** The wait before the first probe. */
  probeSeconds: number;
}

/** The longest wait between two probes. */
export const MAX_PROBE_WAIT_SECONDS = 3600;

export interface CircuitAfter {
  circuit: Circuit;
  failures: number;
  /** Set when the attempt opened (or re-opened) the circuit: seconds until the next probe. */
  openForSeconds: number | null;
}

/** The endpoint's circuit after one attempt (`probe`: the attempt was the half-open probe). */
export function afterAttempt(state: { circuit: Circuit; failures: number }, ok: boolean, probe: boolean, rules: CircuitRules): CircuitAfter {
  if (ok) return { circuit: 'closed', failures: 0, openForSeconds: null };
  const failures = state.failures + 1;
  // a failure of an attempt that started before the circuit opened only counts
  if (probe || (state.circuit === 'closed' && failures >= rules.threshold)) return { circuit: 'open', failures, openForSeconds: probeWait(failures, rules) };
  return { circuit: state.circuit, failures, openForSeconds: null };
}

/** The wait before the next probe: `probeSeconds`, doubled for each failure past the threshold, at most an hour. */
export function probeWait(failures: number, rules: CircuitRules): number {
  const failedProbes = Math.min(20, Math.max(0, failures - rules.threshold));
  return Math.min(MAX_PROBE_WAIT_SECONDS, rules.probeSeconds * 2 ** failedProbes);
}

/**
 * How many deliveries of an endpoint may start now: up to `perEndpoint` in flight when closed; one
 * probe when the circuit is open or half-open, the probe is due and nothing is in flight.
 */
export function capacityOf(endpoint: { circuit: Circuit; probeDue: boolean; inFlight: number }, perEndpoint: number): { capacity: number; probe: boolean } {
  if (endpoint.circuit === 'closed') return { capacity: Math.max(0, perEndpoint - endpoint.inFlight), probe: false };
  return endpoint.probeDue && endpoint.inFlight === 0 ? { capacity: 1, probe: true } : { capacity: 0, probe: false };
}
