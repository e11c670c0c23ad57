import { byterangesFrame } from './byteranges';

describe('byterangesFrame', () => {
  const file = Buffer.from('0123456789abcdefghij');

  /** The body the frame describes, filled with the file's bytes. */
  const render = (frame: ReturnType<typeof byterangesFrame>) =>
    Buffer.concat([...frame.parts.flatMap((p) => [Buffer.from(p.head), file.subarray(p.range.start, p.range.end + 1)]), Buffer.from(frame.tail)]);

  it('lays out RFC 9110 parts, starting with the first delimiter and ending with the closing one', () => {
    const frame = byterangesFrame([{ start: 0, end: 2 }, { start: 10, end: 11 }], file.length, 'application/gzip', 'BOUNDARY');
    expect(frame.contentType).toBe('multipart/byteranges; boundary=BOUNDARY');
    expect(render(frame).toString()).toBe(
      '--BOUNDARY\r\nContent-Type: application/gzip\r\nContent-Range: bytes 0-2/20\r\n\r\n012' +
        '\r\n--BOUNDARY\r\nContent-Type: application/gzip\r\nContent-Range: bytes 10-11/20\r\n\r\nab' +
        '\r\n--BOUNDARY--\r\n',
    );
  });

  it('knows its exact length before a byte is read', () => {
    const frame = byterangesFrame([{ start: 5, end: 5 }, { start: 0, end: 19 }, { start: 7, end: 9 }], file.length, 'application/octet-stream');
    expect(frame.length).toBe(render(frame).length);
  });

  it('draws a fresh random boundary per answer', () => {
    const a = byterangesFrame([{ start: 0, end: 0 }, { start: 2, end: 2 }], 20, 'text/plain');
    const b = byterangesFrame([{ start: 0, end: 0 }, { start: 2, end: 2 }], 20, 'text/plain');
    expect(a.contentType).toMatch(/^multipart\/byteranges; boundary=[0-9a-f]{32}$/);
    expect(a.contentType).not.toBe(b.contentType);
    expect(a.length).toBe(b.length);
  });

  it('never lets a stored content type break a part header', () => {
    const frame = byterangesFrame([{ start: 0, end: 0 }, { start: 2, end: 2 }], 20, 'text/plain\r\nX-Evil: 1', 'B');
    expect(frame.parts[0].head).toBe('--B\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-0/20\r\n\r\n');
  });
});
