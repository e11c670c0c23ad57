import { afterAttempt, capacityOf, probeWait } from './circuit';

const rules = { threshold: 3, probeSeconds: 60 };

describe('the circuit breaker', () => {
  it('opens after the threshold of consecutive failures, and any success closes it', () => {
    let state = { circuit: 'closed' as const, failures: 0 };
    const first = afterAttempt(state, false, false, rules);
    expect(first).toEqual({ circuit: 'closed', failures: 1, openForSeconds: null });
    state = { circuit: 'closed', failures: 2 };
    expect(afterAttempt(state, false, false, rules)).toEqual({ circuit: 'open', failures: 3, openForSeconds: 60 });
    expect(afterAttempt({ circuit: 'open', failures: 7 }, true, false, rules)).toEqual({ circuit: 'closed', failures: 0, openForSeconds: null });
  });

  it('a failed probe opens it again for twice as long, up to an hour', () => {
    expect(afterAttempt({ circuit: 'half-open', failures: 3 }, false, true, rules)).toEqual({ circuit: 'open', failures: 4, openForSeconds: 120 });
    expect(afterAttempt({ circuit: 'half-open', failures: 4 }, false, true, rules).openForSeconds).toBe(240);
    expect(probeWait(40, rules)).toBe(3600);
  });

  it('a failure of an attempt that started before the circuit opened only counts', () => {
    expect(afterAttempt({ circuit: 'open', failures: 3 }, false, false, rules)).toEqual({ circuit: 'open', failures: 4, openForSeconds: null });
    expect(afterAttempt({ circuit: 'half-open', failures: 3 }, false, false, rules)).toEqual({ circuit: 'half-open', failures: 4, openForSeconds: null });
  });

  it('lets the endpoint limit through when closed, one probe when due and idle, nothing else', () => {
    expect(capacityOf({ circuit: 'closed', probeDue: false, inFlight: 1 }, 2)).toEqual({ capacity: 1, probe: false });
    expect(capacityOf({ circuit: 'closed', probeDue: false, inFlight: 3 }, 2)).toEqual({ capacity: 0, probe: false });
    expect(capacityOf({ circuit: 'open', probeDue: false, inFlight: 0 }, 2)).toEqual({ capacity: 0, probe: false });
    expect(capacityOf({ circuit: 'open', probeDue: true, inFlight: 0 }, 2)).toEqual({ capacity: 1, probe: true });
    expect(capacityOf({ circuit: 'half-open', probeDue: true, inFlight: 1 }, 2)).toEqual({ capacity: 0, probe: false });
    expect(capacityOf({ circuit: 'half-open', probeDue: true, inFlight: 0 }, 2)).toEqual({ capacity: 1, probe: true });
  });
});
