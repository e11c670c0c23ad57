import { shareSlots } from './fair-share';

const c = (endpointId: string, accountId: string, capacity = 2) => ({ endpointId, accountId, capacity });

describe('shareSlots', () => {
  it('gives each account a turn before any account gets a second slot', () => {
    const shares = shareSlots([c('a1', 'A'), c('a2', 'A'), c('a3', 'A'), c('b1', 'B')], 2, 16);
    expect(Object.fromEntries(shares)).toEqual({ a1: 1, b1: 1 });
  });

  it('within an account, gives its endpoints turns, each up to its capacity', () => {
    const shares = shareSlots([c('a1', 'A'), c('a2', 'A', 1), c('b1', 'B', 1)], 16, 16);
    expect(Object.fromEntries(shares)).toEqual({ a1: 2, a2: 1, b1: 1 });
  });

  it('keeps an account within its cap, counting the slots it holds already', () => {
    const shares = shareSlots([c('a1', 'A', 10), c('b1', 'B', 10)], 16, 4, new Map([['A', 3]]));
    expect(Object.fromEntries(shares)).toEqual({ a1: 1, b1: 4 });
  });

  it('hands out no more than the free slots, and nothing to endpoints without room', () => {
    expect(shareSlots([c('a1', 'A', 0), c('b1', 'B', 5)], 3, 16)).toEqual(new Map([['b1', 3]]));
    expect(shareSlots([c('a1', 'A')], 0, 16).size).toBe(0);
    expect(shareSlots([], 5, 16).size).toBe(0);
  });

  it('follows the order given (the least recently served account first) when slots run out', () => {
    expect([...shareSlots([c('b1', 'B'), c('a1', 'A')], 1, 16).keys()]).toEqual(['b1']);
  });
});
