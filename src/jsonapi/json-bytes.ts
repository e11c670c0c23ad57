import type { Response } from 'express';

/**
 * The hot routes' answers, serialized ahead. An update check's answer is the same for every caller of one
 * visibility class but for a few strings (the caller's download URL, its version): the answer is
 * serialized once, with slots for those strings, and each request only fills them in.
 */

/** A slot's marker: NUL cannot occur in stored text (PostgreSQL refuses it), so no value can collide. */
export function slot(index: number): string {
  return `\u0000slot${index}\u0000`;
}

/**
 * A JSON document serialized once, with slots (`slot(i)` string values) filled per request. The
 * filled answer is a string: Node writes the status line, the headers and a string body in one
 * write, where a Buffer body is a second chunk (and a Buffer per request to allocate and copy).
 */
export class JsonTemplate {
  private constructor(
    private readonly parts: readonly string[],
    /** Which value fills the gap after each part but the last. */
    private readonly gaps: readonly number[],
  ) {}

  /** `value` holds `slot(0)`, `slot(1)`, ... as string values (each may occur several times). */
  static of(value: unknown, slots: number): JsonTemplate {
    const json = JSON.stringify(value);
    const markers = Array.from({ length: slots }, (_, i) => JSON.stringify(slot(i)));
    const parts: string[] = [];
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
      parts.push(json.slice(from, next));
      gaps.push(which);
      from = next + markers[which].length;
    }
    parts.push(json.slice(from));
    return new JsonTemplate(parts, gaps);
  }

  /** The document with each slot replaced by its value (as a JSON string). */
  fill(values: readonly string[]): string {
    const parts = this.parts;
    const gaps = this.gaps;
    let out = parts[0];
    for (let i = 0; i < gaps.length; i++) out += JSON.stringify(values[gaps[i]]) + parts[i + 1];
    return out;
  }
}

/**
 * Sends an answer that is already serialized: the status, Content-Type and the body (none for
 * HEAD, which gets the same Content-Length). What express's `res.json` would send for the same
 * document, without its per-request serialization and checks (no ETag is configured; the hot
 * routes set no validators). Node adds Content-Length for a body given whole to `end`.
 */
export function sendSerialized(res: Response, status: number, contentType: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  if (res.req.method !== 'HEAD') {
    res.end(body);
    return;
  }
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end();
}

export const JSON_UTF8 = 'application/json; charset=utf-8';

/** The JSON:API media type with its charset (what most answers send). */
const JSONAPI_UTF8 = 'application/vnd.api+json; charset=utf-8';

/**
 * The Content-Type express's `res.json` would send: the type the JSON:API edge chose for the
 * request's Accept (else application/json), with `; charset=utf-8`.
 */
export function jsonUtf8Type(res: Response): string {
  const type = res.getHeader('Content-Type');
  if (typeof type !== 'string') return JSON_UTF8;
  if (type === 'application/vnd.api+json') return JSONAPI_UTF8;
  return /;\s*charset=/i.test(type) ? type : `${type}; charset=utf-8`;
}
