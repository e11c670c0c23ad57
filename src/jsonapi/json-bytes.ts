import type { Response } from 'express';

/**
 * The hot routes' answers as bytes. An update check's answer is the same for every caller of one
 * visibility class but for a few strings (the caller's download URL, its version): the answer is
 * serialized once, with slots for those strings, and each request only fills them in.
 */

/** A slot's marker: NUL cannot occur in stored text (PostgreSQL refuses it), so no value can collide. */
export function slot(index: number): string {
  return `\u0000slot${index}\u0000`;
}

/** A JSON document serialized once, with slots (`slot(i)` string values) filled per request. */
export class JsonTemplate {
  private constructor(
    private readonly parts: readonly Buffer[],
    /** Which value fills the gap after each part but the last. */
    private readonly gaps: readonly number[],
    private readonly fixedLength: number,
  ) {}

  /** `value` holds `slot(0)`, `slot(1)`, ... as string values (each may occur several times). */
  static of(value: unknown, slots: number): JsonTemplate {
    const json = JSON.stringify(value);
    const markers = Array.from({ length: slots }, (_, i) => JSON.stringify(slot(i)));
    const parts: Buffer[] = [];
    const gaps: number[] = [];
    let from = 0;
    for (;;) {
      let next = -1;
      let which = -1;
      for (let i = 0; i < markers.length; i++) {
        const at = json.indexOf(markers[i], from);
        if (at >= 0 && (next < 0 || at < next)) [next, which] = [at, i];
      }
      if (next < 0) break;
      parts.push(Buffer.from(json.slice(from, next)));
      gaps.push(which);
      from = next + markers[which].length;
    }
    parts.push(Buffer.from(json.slice(from)));
    return new JsonTemplate(parts, gaps, parts.reduce((n, p) => n + p.length, 0));
  }

  /** The document with each slot replaced by its value (a JSON string). */
  fill(values: readonly string[]): Buffer {
    if (!this.gaps.length) return this.parts[0];
    const filled = values.map((v) => Buffer.from(JSON.stringify(v)));
    let length = this.fixedLength;
    for (const g of this.gaps) length += filled[g].length;
    const out = Buffer.allocUnsafe(length);
    let at = this.parts[0].copy(out, 0);
    for (let i = 0; i < this.gaps.length; i++) {
      at += filled[this.gaps[i]].copy(out, at);
      at += this.parts[i + 1].copy(out, at);
    }
    return out;
  }
}

export const JSON_UTF8 = 'application/json; charset=utf-8';

/**
 * Sends bytes that are already serialized: the status, Content-Type and Content-Length, then the
 * body (none for HEAD). What express's `res.json` would send for the same document, without its
 * per-request serialization and checks (no ETag is configured; the hot routes set no validators).
 */
export function sendBytes(res: Response, status: number, contentType: string, body: Buffer): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', body.length);
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

const utf8Types = new Map<string, string>();

/**
 * The Content-Type express's `res.json` would send: the type the JSON:API edge chose for the
 * request's Accept (else application/json), with `; charset=utf-8`.
 */
export function jsonUtf8Type(res: Response): string {
  const type = res.getHeader('Content-Type');
  if (typeof type !== 'string') return JSON_UTF8;
  let full = utf8Types.get(type);
  if (full === undefined) {
    full = /;\s*charset=/i.test(type) ? type : `${type}; charset=utf-8`;
    if (utf8Types.size < 64) utf8Types.set(type, full);
  }
  return full;
}
