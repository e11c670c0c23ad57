// The console's only way to the server: the public JSON:API, as any script could call it.

export interface Resource<A = Record<string, any>> {
  id: string;
  type: string;
  attributes: A;
  relationships?: Record<string, { data?: { type: string; id: string } | { type: string; id: string }[] | null; links?: { related?: string } }>;
  links?: { self?: string; redirect?: string };
}

export interface Doc<T = Resource | Resource[]> {
  data: T;
  included?: Resource[];
  links?: { self?: string; next?: string | null; prev?: string | null; first?: string; last?: string };
  meta?: Record<string, any>;
}

/** A failed call: `detail` is what the API said (shown to the user as is). */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** Who calls: an admin token, a license key, or nobody. */
export type Credential = { token: string } | { license: string } | null;

export interface CallOptions {
  method?: string;
  body?: unknown;
  credential?: Credential;
  headers?: Record<string, string>;
}

export function base64(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function authorization(credential: Credential): Record<string, string> {
  if (!credential) return {};
  return 'token' in credential ? { Authorization: `Bearer ${credential.token}` } : { Authorization: `License ${credential.license}` };
}

/** Keeps path and query of a link the API returned (links are absolute, on PUBLIC_URL). */
export function relative(link: string): string {
  const url = new URL(link, location.origin);
  return url.pathname + url.search;
}

export async function call<T = Doc>(path: string, options: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = {
    Accept: 'application/vnd.api+json',
    'Keygen-Version': '1.1',
    ...authorization(options.credential ?? null),
    ...options.headers,
  };
  if (options.body !== undefined) headers['Content-Type'] = 'application/vnd.api+json';
  let res: Response;
  try {
    // credentials 'omit': no cookie is involved, and a 401 with WWW-Authenticate (a failed sign-in)
    // must come back to the page rather than open the browser's own password prompt
    res = await fetch(path, { method: options.method ?? 'GET', headers, body: options.body === undefined ? undefined : JSON.stringify(options.body), cache: 'no-store', credentials: 'omit' });
  } catch {
    throw new ApiFailure(0, 'NETWORK', 'The server did not answer; check your connection and try again.');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported below
  }
  if (!res.ok) {
    const error = json?.errors?.[0];
    const detail = error ? [error.title, error.detail].filter(Boolean).join(': ') : `HTTP ${res.status}`;
    throw new ApiFailure(res.status, error?.code ?? String(res.status), detail);
  }
  return json as T;
}

/** The message of anything thrown: the API's detail for a failed call. */
export function message(error: unknown): string {
  if (error instanceof ApiFailure) return error.detail;
  return error instanceof Error ? error.message : String(error);
}

export function one(doc: Doc): Resource {
  return doc.data as Resource;
}

export function many(doc: Doc): Resource[] {
  return doc.data as Resource[];
}

export function related(resource: Resource, name: string): string | undefined {
  const data = resource.relationships?.[name]?.data;
  return data && !Array.isArray(data) ? data.id : undefined;
}

/** The filetype the API expects for a filename: its extension (tar.gz kept whole), lowercase. */
export function filetypeOf(filename: string): string {
  const lower = filename.toLowerCase();
  for (const double of ['tar.gz', 'tar.xz', 'tar.bz2', 'tar.zst']) if (lower.endsWith(`.${double}`)) return double;
  const dot = lower.lastIndexOf('.');
  return dot > 0 ? lower.slice(dot + 1) : 'bin';
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 16)} UTC`;
}

/**
 * Uploads a file's bytes to a signed upload URL with XMLHttpRequest (fetch reports no upload
 * progress), calling `progress` with the fraction sent.
 */
export function putFile(url: string, file: Blob, progress: (fraction: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) progress(e.loaded / e.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        progress(1);
        resolve();
        return;
      }
      let detail = `HTTP ${xhr.status}`;
      try {
        const error = JSON.parse(xhr.responseText)?.errors?.[0];
        if (error) detail = [error.title, error.detail].filter(Boolean).join(': ');
      } catch {
        // S3 answers XML
      }
      reject(new ApiFailure(xhr.status, 'UPLOAD_FAILED', detail));
    };
    xhr.onerror = () => reject(new ApiFailure(0, 'NETWORK', 'The upload was interrupted'));
    xhr.send(file);
  });
}
