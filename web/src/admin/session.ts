// The admin's session: account and token in this tab's sessionStorage (never a cookie).
import { ApiFailure, call } from '../api';
import type { CallOptions, Doc } from '../api';

export interface Session {
  account: string;
  token: string;
  email: string;
}

const KEY = 'shipgate.admin';

export function loadSession(): Session | null {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) ?? 'null');
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
}

let current: Session | null = loadSession();
export const session = () => current!;
export function setSession(s: Session | null): void {
  current = s;
  saveSession(s);
}

/** A call under the signed-in account with the admin's token. */
export function api<T = Doc>(path: string, options: Omit<CallOptions, 'credential'> = {}): Promise<T> {
  const s = session();
  return signedOut(call<T>(`/v1/accounts/${encodeURIComponent(s.account)}${path}`, { ...options, credential: { token: s.token } }));
}

/** A call to a link the API returned (next page, related). */
export function follow<T = Doc>(link: string): Promise<T> {
  return signedOut(call<T>(link, { credential: { token: session().token } }));
}

/** A token that stopped working (revoked, expired) ends the session: the next render shows the sign-in. */
async function signedOut<T>(answer: Promise<T>): Promise<T> {
  try {
    return await answer;
  } catch (error) {
    if (error instanceof ApiFailure && error.code === 'TOKEN_INVALID') {
      setSession(null);
      dispatchEvent(new PopStateEvent('popstate'));
    }
    throw error;
  }
}

export const q = (params: Record<string, string | number | undefined | null | false>) => {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '' && v !== false) search.set(k, String(v));
  const s = search.toString();
  return s ? `?${s}` : '';
};
