import type { Response } from 'express';
import { jsonUtf8Type, JsonTemplate, slot } from './json-bytes';

/** What the template must give: the value with each slot string replaced by its value, serialized as usual. */
function expected(value: unknown, values: readonly string[]): string {
  const json = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'string') return v;
    const i = values.findIndex((_, n) => v === slot(n));
    return i >= 0 ? values[i] : v;
  });
  return json;
}

function expectFilled(value: unknown, slots: number, values: readonly string[]): void {
  const filled = JsonTemplate.of(value, slots).fill(values);
  expect(filled).toBe(expected(value, values));
}

describe('JsonTemplate', () => {
  it('fills one slot', () => {
    expectFilled({ data: { links: { redirect: slot(0) } }, meta: { n: 1 } }, 1, ['https://x.test/a?b=c']);
  });

  it('fills a slot that occurs several times', () => {
    expectFilled({ a: slot(0), b: [slot(0), 1, { c: slot(0) }], d: 'x' }, 1, ['v']);
  });

  it('fills two slots whichever comes first in the document', () => {
    expectFilled({ url: slot(0), meta: { current: slot(1) } }, 2, ['https://x.test/dl', '1.0.0']);
    expectFilled({ meta: { current: slot(1) }, url: slot(0) }, 2, ['https://x.test/dl', '1.0.0']);
    expectFilled([slot(1), slot(0), slot(1), slot(0)], 2, ['zero', 'one']);
  });

  it('escapes values as JSON strings', () => {
    const values = ['say "hi" \\ back\\slash', 'line\nbreak\ttab \u0001 \u2028 é ✓ 😀 </script><script>alert(1)</script>'];
    expectFilled({ a: slot(0), b: { c: slot(1) } }, 2, values);
    const parsed = JSON.parse(JsonTemplate.of({ a: slot(0), b: slot(1) }, 2).fill(values));
    expect(parsed).toEqual({ a: values[0], b: values[1] });
  });

  it('fills empty values', () => {
    expectFilled({ a: slot(0), b: slot(1) }, 2, ['', '']);
  });

  it('gives the document as is when it holds no slot', () => {
    const value = { data: [{ id: '1', attributes: { name: 'plain', n: 3, ok: true, none: null } }] };
    expectFilled(value, 0, []);
    expectFilled(value, 2, ['unused', 'unused too']);
  });

  it('keeps multi-byte UTF-8 text around slots', () => {
    const value = { name: 'Größe — 日本語 😀', url: slot(0), notes: 'Ünïcödé ✓', current: slot(1), tail: '€' };
    expectFilled(value, 2, ['https://x.test/dl?key=Ä-1', '1.0.0-ß']);
    expectFilled({ a: `前${'ü'.repeat(3)}`, b: slot(0) }, 1, ['後']);
  });

  it('can be filled again with other values', () => {
    const template = JsonTemplate.of({ url: slot(0), v: slot(1) }, 2);
    const first = template.fill(['https://a.test', '1.0.0']);
    const second = template.fill(['https://bb.test/longer', '2.0.0+build.5']);
    expect(first).toBe(expected({ url: slot(0), v: slot(1) }, ['https://a.test', '1.0.0']));
    expect(second).toBe(expected({ url: slot(0), v: slot(1) }, ['https://bb.test/longer', '2.0.0+build.5']));
  });
});

describe('jsonUtf8Type', () => {
  const withType = (type: string | undefined) => ({ getHeader: (name: string) => (name.toLowerCase() === 'content-type' ? type : undefined) }) as unknown as Response;

  it('adds the charset to the type the edge chose', () => {
    expect(jsonUtf8Type(withType('application/vnd.api+json'))).toBe('application/vnd.api+json; charset=utf-8');
  });

  it('keeps a type that already names its charset', () => {
    expect(jsonUtf8Type(withType('application/json; charset=utf-8'))).toBe('application/json; charset=utf-8');
  });

  it('answers plain JSON when no type is set', () => {
    expect(jsonUtf8Type(withType(undefined))).toBe('application/json; charset=utf-8');
  });
});
