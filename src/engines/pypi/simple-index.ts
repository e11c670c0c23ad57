import type { PackageVersion } from '../package-catalogue';

/** The two forms of PyPI's simple repository API (PEP 503 HTML, PEP 691 JSON). */
export type SimpleFormat = 'html' | 'json';

export const PYPI_JSON = 'application/vnd.pypi.simple.v1+json';
export const PYPI_HTML = 'application/vnd.pypi.simple.v1+html';

/**
 * The form a client's Accept asks for (PEP 691): the JSON form when its quality is the highest,
 * else HTML. pip sends `application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;
 * q=0.1, text/html; q=0.01`; a browser or curl gets HTML.
 */
export function simpleFormat(accept: string | undefined): { format: SimpleFormat; contentType: string } {
  let json = 0;
  let html = 0;
  let htmlType = 'text/html; charset=utf-8';
  for (const part of (accept ?? '').split(',')) {
    const [type, ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!(q >= 0)) continue;
    const t = type.trim();
    if ((t === PYPI_JSON || t === 'application/vnd.pypi.simple.latest+json') && q > json) json = q;
    if ((t === PYPI_HTML || t === 'application/vnd.pypi.simple.latest+html') && q > html) {
      html = q;
      htmlType = PYPI_HTML;
    }
    if ((t === 'text/html' || t === '*/*' || t === 'text/*') && q > html) {
      html = q;
      htmlType = 'text/html; charset=utf-8';
    }
  }
  return json > 0 && json > html ? { format: 'json', contentType: PYPI_JSON } : { format: 'html', contentType: htmlType };
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The root page: one link per project. */
export function renderIndex(names: readonly string[], format: SimpleFormat): string {
  if (format === 'json') return JSON.stringify({ meta: { 'api-version': '1.0' }, projects: names.map((name) => ({ name })) });
  const links = names.map((n) => `    <a href="${escapeHtml(encodeURIComponent(n))}/">${escapeHtml(n)}</a><br/>`).join('\n');
  return `<!DOCTYPE html>\n<html>\n  <head>\n    <meta name="pypi:repository-version" content="1.0">\n    <title>Simple index</title>\n  </head>\n  <body>\n${links}\n  </body>\n</html>\n`;
}

/** One file of a project page: relative URL (resolved against the page, so the client's host and credentials carry over). */
interface SimpleFile {
  filename: string;
  url: string;
  sha256: string;
  requiresPython: string | null;
  yanked: boolean;
}

/**
 * A project page: every file of every version, each link with `#sha256=`, the artifact's
 * `metadata.requiresPython` as `data-requires-python`, and PEP 592's `data-yanked` on the files of
 * yanked releases.
 */
export function renderProject(name: string, versions: readonly PackageVersion[], format: SimpleFormat, fileUrl: (artifactId: string, filename: string) => string): string {
  const files: SimpleFile[] = [];
  for (const v of versions) {
    for (const f of v.files) {
      if (!f.artifact.sha256) continue;
      const rp = f.artifact.metadata?.requiresPython;
      files.push({ filename: f.artifact.filename, url: fileUrl(f.artifact.id, f.artifact.filename), sha256: f.artifact.sha256, requiresPython: typeof rp === 'string' ? rp : null, yanked: v.yanked });
    }
  }
  if (format === 'json') {
    return JSON.stringify({
      meta: { 'api-version': '1.0' },
      name,
      files: files.map((f) => ({
        filename: f.filename,
        url: f.url,
        hashes: { sha256: f.sha256 },
        ...(f.requiresPython ? { 'requires-python': f.requiresPython } : {}),
        yanked: f.yanked,
      })),
    });
  }
  const links = files
    .map((f) => {
      const rp = f.requiresPython ? ` data-requires-python="${escapeHtml(f.requiresPython)}"` : '';
      const yanked = f.yanked ? ' data-yanked=""' : '';
      return `    <a href="${escapeHtml(f.url)}#sha256=${f.sha256}"${rp}${yanked}>${escapeHtml(f.filename)}</a><br/>`;
    })
    .join('\n');
  return `<!DOCTYPE html>\n<html>\n  <head>\n    <meta name="pypi:repository-version" content="1.0">\n    <title>Links for ${escapeHtml(name)}</title>\n  </head>\n  <body>\n    <h1>Links for ${escapeHtml(name)}</h1>\n${links}\n  </body>\n</html>\n`;
}
