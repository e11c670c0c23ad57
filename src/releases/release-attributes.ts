/**
 * The attribute rules of a release that are more than a type check: filename, filetype,
 * platform. Pure functions so that the DTO and unit tests share them; each returns why a value is
 * unacceptable, or null when it is fine.
 */

export const FILENAME_MAX_LENGTH = 255;
export const SIGNATURE_MAX_BYTES = 4 * 1024;
export const DESCRIPTION_MAX_BYTES = 64 * 1024;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const PLATFORM = /^[a-z0-9][a-z0-9._+\-/]*$/;
const FILETYPE = /^[a-z0-9][a-z0-9._+-]*$/;

/** `prod-1/linux-1-0-0.tar.gz` is fine; `..` segments, a leading `/`, backslashes and control characters are not. */
export function filenameProblem(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) return 'must be a non-empty string';
  if (value.length > FILENAME_MAX_LENGTH) return `must be at most ${FILENAME_MAX_LENGTH} characters`;
  if (CONTROL.test(value)) return 'must not contain control characters';
  if (value.includes('\\')) return 'must not contain a backslash';
  if (value.startsWith('/')) return 'must not start with /';
  const segments = value.split('/');
  if (segments.some((s) => s === '..' || s === '.')) return 'must not contain . or .. path segments';
  if (segments.some((s) => s === '')) return 'must not contain empty path segments';
  return null;
}

/** Does the filename's last segment have an extension? (`app.dmg` yes; `app`, `.bashrc`, `app.` no) */
export function hasExtension(filename: string): boolean {
  const base = filename.slice(filename.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 && dot < base.length - 1;
}

/**
 * The filetype must match the filename's extension: `app.tar.gz` takes `tar.gz` or `gz` (the
 * filename ends with `.` + filetype, compared without case); a filename without extension takes
 * any filetype. Always lowercase, no leading dot.
 */
export function filetypeProblem(value: unknown, filename: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) return 'must be a non-empty string';
  if (value.length > 255) return 'must be at most 255 characters';
  if (value.startsWith('.')) return 'must not start with a dot';
  if (value !== value.toLowerCase()) return 'must be lowercase';
  if (!FILETYPE.test(value)) return 'must contain only lowercase letters, digits, dots, dashes, underscores or plus signs';
  if (typeof filename === 'string' && filenameProblem(filename) === null && hasExtension(filename)) {
    if (!filename.toLowerCase().endsWith(`.${value}`)) return "must match the filename's extension";
  }
  return null;
}

/** `darwin/arm64`, `linux/amd64`, `windows`: lowercase, no spaces. */
export function platformProblem(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) return 'must be a non-empty string';
  if (value.length > 255) return 'must be at most 255 characters';
  if (value !== value.toLowerCase()) return 'must be lowercase';
  if (!PLATFORM.test(value)) return 'must contain only lowercase letters, digits and . _ + - /';
  return null;
}

export function byteLength(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}
