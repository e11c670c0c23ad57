import fc from 'fast-check';
import { basename, contentDisposition, continuesDownload, ifRangeAllows, MAX_RANGES, namesSeveralRanges, noneMatch, parseRange } from './http-range';

describe('parseRange', () => {
  const size = 1000;

  it('serves the whole file without a Range header', () => {
    expect(parseRange(undefined, size)).toEqual({ kind: 'full' });
  });

  it.each([
    ['bytes=0-499', 0, 499],
    ['bytes=500-999', 500, 999],
    ['bytes=500-', 500, 999],
    ['bytes=-100', 900, 999],
    ['bytes=0-0', 0, 0],
    ['bytes=900-5000', 900, 999], // the end is clamped
    ['bytes=-5000', 0, 999], // a suffix longer than the file is the whole file
    ['BYTES = 10 - 20', 10, 20],
  ])('reads %s', (header, start, end) => {
    expect(parseRange(header, size)).toEqual({ kind: 'partial', ranges: [{ start, end }] });
  });

  it.each(['bytes=1000-', 'bytes=1000-1001', 'bytes=-0', 'bytes=5000-6000', 'bytes=1000-,2000-3000', 'bytes=-0, 1000-'])('refuses %s as unsatisfiable', (header) => {
    expect(parseRange(header, size)).toEqual({ kind: 'unsatisfiable' });
  });

  it('finds every range of an empty file unsatisfiable', () => {
    expect(parseRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-1', 0)).toEqual({ kind: 'unsatisfiable' });
  });

  it.each(['items=0-1', 'bytes=', 'bytes=-', 'bytes=5-1', 'bytes=a-b', 'bytes 0-1', 'bytes=99999999999999999999-', 'bytes=,', 'bytes=0-1,5-1', 'bytes=0-1,x', 'bytes=0-1,-', 'bytes=0-1;2-3'])(
    'ignores %s (whole file)',
    (header) => {
      expect(parseRange(header, size)).toEqual({ kind: 'full' });
    },
  );
});

describe('parseRange with several ranges', () => {
  const size = 1000;
  const partial = (...pairs: Array<[number, number]>) => ({ kind: 'partial', ranges: pairs.map(([start, end]) => ({ start, end })) });

  it('reads a range set in the order asked, with or without spaces (as electron-updater sends it)', () => {
    expect(parseRange('bytes=0-99,500-599', size)).toEqual(partial([0, 99], [500, 599]));
    expect(parseRange('bytes=500-599, 0-99, -10', size)).toEqual(partial([500, 599], [0, 99], [990, 999]));
    expect(parseRange('bytes=0-0,,2-2, ', size)).toEqual(partial([0, 0], [2, 2]));
  });

  it('keeps adjacent ranges apart (a client may count on one part per range)', () => {
    expect(parseRange('bytes=0-99,100-199', size)).toEqual(partial([0, 99], [100, 199]));
  });

  it('merges ranges that share bytes, at the place of the first of them', () => {
    expect(parseRange('bytes=0-99,50-149', size)).toEqual(partial([0, 149]));
    expect(parseRange('bytes=700-799,0-99,50-149,720-730', size)).toEqual(partial([700, 799], [0, 149]));
    expect(parseRange('bytes=500-599,0-550', size)).toEqual(partial([0, 599]));
    expect(parseRange('bytes=0-0,0-0,0-0', size)).toEqual(partial([0, 0]));
    expect(parseRange('bytes=-500,0-', size)).toEqual(partial([0, 999]));
  });

  it('drops the unsatisfiable ranges of a set and serves the others', () => {
    expect(parseRange('bytes=0-9,5000-6000,990-2000', size)).toEqual(partial([0, 9], [990, 999]));
  });

  it(`serves ${MAX_RANGES} ranges and ignores a longer Range (the whole file)`, () => {
    const many = (n: number) => `bytes=${Array.from({ length: n }, (_, i) => `${i * 2}-${i * 2}`).join(', ')}`;
    const served = parseRange(many(MAX_RANGES), 10 * MAX_RANGES);
    expect(served.kind === 'partial' && served.ranges.length).toBe(MAX_RANGES);
    expect(parseRange(many(MAX_RANGES + 1), 10 * MAX_RANGES)).toEqual({ kind: 'full' });
  });

  it('never answers more bytes than the file holds, whatever the overlaps', () => {
    const header = `bytes=${Array.from({ length: MAX_RANGES }, () => '0-').join(',')}`;
    expect(parseRange(header, size)).toEqual(partial([0, 999]));
  });

  it('answers exactly the bytes asked for, each once, in parts that stay in the file (property)', () => {
    const spec = fc.oneof(
      fc.tuple(fc.nat(1200), fc.nat(300)).map(([a, n]) => ({ text: `${a}-${a + n}`, bytes: [a, a + n] as const })),
      fc.nat(1200).map((a) => ({ text: `${a}-`, bytes: [a, Infinity] as const })),
      fc.integer({ min: 1, max: 1200 }).map((n) => ({ text: `-${n}`, bytes: [size - n, Infinity] as const })),
    );
    fc.assert(
      fc.property(fc.array(spec, { minLength: 1, maxLength: 12 }), (specs) => {
        const asked = new Set<number>();
        for (const { bytes } of specs) for (let b = Math.max(0, bytes[0]); b <= Math.min(bytes[1], size - 1); b++) asked.add(b);
        const got = parseRange(`bytes=${specs.map((s) => s.text).join(', ')}`, size);
        if (asked.size === 0) return expect(got).toEqual({ kind: 'unsatisfiable' });
        if (got.kind !== 'partial') throw new Error(`expected parts, got ${got.kind}`);
        const sent: number[] = [];
        for (const r of got.ranges) {
          expect(0 <= r.start && r.start <= r.end && r.end < size).toBe(true);
          for (let b = r.start; b <= r.end; b++) sent.push(b);
        }
        expect(sent.length).toBe(new Set(sent).size);
        expect(new Set(sent)).toEqual(asked);
      }),
      { seed: 9110, numRuns: 500 },
    );
  });

  it('tells a Range of several ranges (which S3 cannot answer)', () => {
    expect(namesSeveralRanges('bytes=0-1,5-6')).toBe(true);
    expect(namesSeveralRanges('bytes=0-1')).toBe(false);
    expect(namesSeveralRanges(undefined)).toBe(false);
  });
});

describe('conditional requests', () => {
  const etag = '"abc"';

  it('matches If-None-Match lists, weak tags and *', () => {
    expect(noneMatch('"abc"', etag)).toBe(true);
    expect(noneMatch('"x", W/"abc"', etag)).toBe(true);
    expect(noneMatch('*', etag)).toBe(true);
    expect(noneMatch('"abd"', etag)).toBe(false);
    expect(noneMatch(undefined, etag)).toBe(false);
  });

  it('honours Range only when If-Range names the current ETag', () => {
    expect(ifRangeAllows(undefined, etag)).toBe(true);
    expect(ifRangeAllows('"abc"', etag)).toBe(true);
    expect(ifRangeAllows('"old"', etag)).toBe(false);
    expect(ifRangeAllows('Wed, 21 Oct 2015 07:28:00 GMT', etag)).toBe(false);
  });
});

describe('contentDisposition', () => {
  it('names the basename of a prefixed filename', () => {
    expect(basename('prod-1/linux-1-0-0.tar.gz')).toBe('linux-1-0-0.tar.gz');
    expect(contentDisposition('prod-1/linux-1-0-0.tar.gz')).toBe('attachment; filename="linux-1-0-0.tar.gz"');
  });

  it('adds filename* for non-ASCII names with an ASCII fallback', () => {
    expect(contentDisposition('Überapp €.dmg')).toBe(`attachment; filename="_berapp _.dmg"; filename*=UTF-8''%C3%9Cberapp%20%E2%82%AC.dmg`);
  });

  it('never lets a quote or backslash break out of the quoted string', () => {
    expect(contentDisposition('a"b\\c.zip')).toBe(`attachment; filename="a_b_c.zip"; filename*=UTF-8''a%22b%5Cc.zip`);
  });
});

describe('continuesDownload (a request to a file URL that is no new download)', () => {
  it.each([
    [undefined, false],
    ['bytes=0-', false],
    ['bytes=0-99', false],
    ['bytes=500-599, 0-9', false], // one of the ranges starts at byte 0
    ['bytes=abc', false], // ignored: the whole file is sent
    ['items=100-200', false],
    ['bytes=100-199', true],
    ['bytes=5000-', true],
    ['bytes=-500', true], // the end of the file
    ['bytes=100-199, 300-399', true],
  ])('%s: %s', (header, continues) => {
    expect(continuesDownload(header)).toBe(continues);
  });
});
