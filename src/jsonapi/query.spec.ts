import { ApiError } from './errors';
import { parseFields, parseInclude, parsePage, parseSort } from './query';

function parameterOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as ApiError).errors[0].source?.parameter;
  }
  return undefined;
}

describe('query parameters', () => {
  it('reads offset and cursor pages with defaults and bounds', () => {
    expect(parsePage({})).toEqual({ kind: 'offset', number: 1, size: 10 });
    expect(parsePage({ 'page[number]': '3', 'page[size]': '100' })).toEqual({ kind: 'offset', number: 3, size: 100 });
    expect(parsePage({ page: { size: '5' } })).toEqual({ kind: 'offset', number: 1, size: 5 });
    expect(parsePage({ limit: '7' })).toEqual({ kind: 'offset', number: 1, size: 7 });
    expect(parsePage({ 'page[cursor]': '' })).toEqual({ kind: 'cursor', cursor: null, size: 10 });
    expect(parameterOf(() => parsePage({ 'page[size]': '101' }))).toBe('page[size]');
    expect(parameterOf(() => parsePage({ 'page[number]': ['1', '2'] }))).toBe('page[number]');
    expect(parameterOf(() => parsePage({ 'page[number]': '-1' }))).toBe('page[number]');
  });

  it('reads sort and Keygen order', () => {
    expect(parseSort({}, ['created'])).toEqual([{ field: 'created', descending: true }]);
    expect(parseSort({ sort: 'version,-name' }, ['version', 'name'])).toEqual([
      { field: 'version', descending: false },
      { field: 'name', descending: true },
    ]);
    expect(parseSort({ order: 'asc' }, ['created'])).toEqual([{ field: 'created', descending: false }]);
    expect(parameterOf(() => parseSort({ sort: 'secret' }, ['created']))).toBe('sort');
  });

  it('reads include paths (with their parents) and sparse fieldsets', () => {
    expect([...parseInclude({ include: 'constraints.entitlement' }, ['constraints', 'constraints.entitlement'])]).toEqual([
      'constraints',
      'constraints.entitlement',
    ]);
    expect(parameterOf(() => parseInclude({ include: 'secrets' }, ['product']))).toBe('include');
    expect(parseFields({ 'fields[releases]': 'version,channel' }, { releases: ['version', 'channel'] })).toEqual({
      releases: new Set(['version', 'channel']),
    });
    expect(parameterOf(() => parseFields({ 'fields[releases]': 'nope' }, { releases: ['version'] }))).toBe('fields[releases]');
  });
});
