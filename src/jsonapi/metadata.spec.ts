import { jsonDepth, METADATA_MAX_BYTES, metadataProblem } from './metadata';

describe('metadata', () => {
  it('measures nesting depth', () => {
    expect(jsonDepth({})).toBe(1);
    expect(jsonDepth({ a: 1 })).toBe(1);
    expect(jsonDepth({ a: { b: 1 } })).toBe(2);
    expect(jsonDepth({ a: [{ b: 1 }] })).toBe(3);
    expect(jsonDepth('x')).toBe(0);
  });

  it('accepts objects up to 4 levels and 16 KiB', () => {
    expect(metadataProblem({})).toBeNull();
    expect(metadataProblem({ a: { b: { c: { d: 1 } } } })).toBeNull();
    expect(metadataProblem({ s: 'x'.repeat(METADATA_MAX_BYTES - 10) })).toBeNull();
  });

  it('refuses non-objects, deeper nesting and larger documents', () => {
    expect(metadataProblem([])).toMatch(/object/);
    expect(metadataProblem(null)).toMatch(/object/);
    expect(metadataProblem('x')).toMatch(/object/);
    expect(metadataProblem({ a: { b: { c: { d: { e: 1 } } } } })).toMatch(/levels/);
    expect(metadataProblem({ a: [[[[1]]]] })).toMatch(/levels/);
    expect(metadataProblem({ s: 'x'.repeat(METADATA_MAX_BYTES) })).toMatch(/bytes/);
    // bytes, not characters
    expect(metadataProblem({ s: 'é'.repeat(METADATA_MAX_BYTES / 2) })).toMatch(/bytes/);
  });
});
