import { basename, contentDisposition, ifRangeAllows, noneMatch, parseRange } from './http-range';

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
    expect(parseRange(header, size)).toEqual({ kind: 'partial', range: { start, end } });
  });

  it.each(['bytes=1000-', 'bytes=1000-1001', 'bytes=-0', 'bytes=5000-6000'])('refuses %s as unsatisfiable', (header) => {
    expect(parseRange(header, size)).toEqual({ kind: 'unsatisfiable' });
  });

  it('finds every range of an empty file unsatisfiable', () => {
    expect(parseRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-1', 0)).toEqual({ kind: 'unsatisfiable' });
  });

  it.each(['bytes=0-1,5-6', 'items=0-1', 'bytes=', 'bytes=-', 'bytes=5-1', 'bytes=a-b', 'bytes 0-1', 'bytes=99999999999999999999-'])(
    'ignores %s (whole file)',
    (header) => {
      expect(parseRange(header, size)).toEqual({ kind: 'full' });
    },
  );
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
