/** A part of a multipart/byteranges answer, as a client reads it. */
export interface BytesPart {
  contentType: string;
  /** From the part's `Content-Range: bytes a-b/size`. */
  start: number;
  end: number;
  size: number;
  body: Buffer;
}

/**
 * Reads a `multipart/byteranges` body strictly (RFC 9110 §14.6, RFC 2046 §5.1.1): the boundary
 * from `contentType`, every part with its `Content-Type` and a `Content-Range` whose length is the
 * part's, the closing delimiter last, nothing after it but a CRLF. Throws on anything else.
 */
export function parseByteranges(body: Buffer, contentType: string | null): BytesPart[] {
  const m = /^multipart\/byteranges;\s*boundary=("?)([^";]+)\1$/i.exec(contentType ?? '');
  if (!m) throw new Error(`not multipart/byteranges: ${contentType}`);
  const delimiter = `--${m[2]}`;
  const parts: BytesPart[] = [];
  let at = 0;
  // an optional preamble ends with CRLF before the first delimiter; Shipgate sends none
  if (!body.subarray(0, delimiter.length).equals(Buffer.from(delimiter))) throw new Error('the body does not start with the delimiter');
  for (;;) {
    at += delimiter.length;
    const after = body.subarray(at, at + 2).toString('latin1');
    if (after === '--') {
      const rest = body.subarray(at + 2).toString('latin1');
      if (rest !== '\r\n' && rest !== '') throw new Error(`bytes after the closing delimiter: ${JSON.stringify(rest)}`);
      return parts;
    }
    if (after !== '\r\n') throw new Error(`no CRLF after a delimiter at ${at}`);
    const headEnd = body.indexOf('\r\n\r\n', at + 2, 'latin1');
    if (headEnd < 0) throw new Error('a part without the end of its headers');
    const headers = new Map<string, string>();
    for (const line of body.subarray(at + 2, headEnd).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(headers.get('content-range') ?? '');
    if (!range) throw new Error(`a part without a Content-Range: ${[...headers].join('; ')}`);
    const [start, end, size] = range.slice(1).map(Number);
    const dataStart = headEnd + 4;
    const data = body.subarray(dataStart, dataStart + end - start + 1);
    parts.push({ contentType: headers.get('content-type') ?? '', start, end, size, body: data });
    at = dataStart + data.length;
    if (body.subarray(at, at + 2 + delimiter.length).toString('latin1') !== `\r\n${delimiter}`) throw new Error(`part ${parts.length} is not followed by a delimiter`);
    at += 2;
  }
}
