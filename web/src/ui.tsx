// Small shared pieces of both pages: a router on the History API, loading/error states, a
// confirmation dialog, switches and tables. Plain elements with labels, so keyboards and screen
// readers get the browser's own behaviour.
import type { ComponentChildren, JSX } from 'preact';
import { cloneElement } from 'preact';
import { useCallback, useEffect, useId, useRef, useState } from 'preact/hooks';
import { message } from './api';

const listeners = new Set<() => void>();
addEventListener('popstate', () => listeners.forEach((l) => l()));

export function navigate(to: string): void {
  history.pushState(null, '', to);
  listeners.forEach((l) => l());
  scrollTo(0, 0);
}

/** The current path and query; re-renders on navigation. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const [, tick] = useState(0);
  useEffect(() => {
    const l = () => tick((n) => n + 1);
    listeners.add(l);
    return () => listeners.delete(l);
  }, []);
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

/** A link that navigates inside the app (a plain link to assistive technology and middle clicks). */
export function Link(props: { href: string; children: ComponentChildren; class?: string; 'aria-current'?: 'page' }) {
  return (
    <a
      {...props}
      onClick={(e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
        e.preventDefault();
        navigate(props.href);
      }}
    />
  );
}

export interface Loaded<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/** Runs a load when its key changes; keeps the last data while reloading. */
export function useLoad<T>(load: () => Promise<T>, key: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error: string | null; loading: boolean }>({ error: null, loading: true });
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState({ error: message(error), loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...key, n]);
  return { ...state, data: state.data, reload: useCallback(() => setN((x) => x + 1), []) };
}

/** Runs an action, keeping its error (the API's detail) and a busy flag. */
export function useAction(): { busy: boolean; error: string | null; run: (action: () => Promise<unknown>) => Promise<boolean>; clear: () => void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      return true;
    } catch (e) {
      setError(message(e));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run, clear: () => setError(null) };
}

export function ErrorBox({ error }: { error: string | null | undefined }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {error}
    </p>
  );
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p class="muted" role="status" aria-live="polite">
      {what}…
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

/** Shows the state of a load: spinner, error or the children. */
export function Show<T>({ loaded, children }: { loaded: Loaded<T>; children: (data: T) => ComponentChildren }) {
  if (loaded.error) return <ErrorBox error={loaded.error} />;
  if (loaded.data === undefined) return <Loading />;
  return <>{children(loaded.data)}</>;
}

/** A labelled control; the hint is its description (not part of its name). */
export function Field(props: { label: string; hint?: string; children: JSX.Element }) {
  const id = useId();
  const control = cloneElement(props.children, { id, 'aria-describedby': props.hint ? `${id}-hint` : undefined });
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {control}
      {props.hint && (
        <small class="muted" id={`${id}-hint`}>
          {props.hint}
        </small>
      )}
    </div>
  );
}

/** An on/off control announced as a switch. */
export function Switch(props: { label: string; checked: boolean; disabled?: boolean; onChange: (on: boolean) => void }) {
  return (
    <label class="switch">
      <input type="checkbox" role="switch" checked={props.checked} disabled={props.disabled} aria-checked={props.checked} onChange={(e) => props.onChange((e.target as HTMLInputElement).checked)} />
      <span>{props.label}</span>
    </label>
  );
}

/** A button that asks first, in a modal dialog (focus moves into it; Escape cancels). */
export function ConfirmButton(props: { label: string; question: string; confirm: string; danger?: boolean; disabled?: boolean; onConfirm: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  return (
    <>
      <button type="button" class={props.danger ? 'danger' : ''} disabled={props.disabled} onClick={() => dialog.current?.showModal()}>
        {props.label}
      </button>
      <dialog ref={dialog} aria-label={props.label}>
        <form method="dialog">
          <p>{props.question}</p>
          <div class="row">
            <button value="cancel">Cancel</button>
            <button value="ok" class={props.danger ? 'danger' : 'primary'} onClick={() => props.onConfirm()}>
              {props.confirm}
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}

export function Badge({ value }: { value: string }) {
  return <span class={`badge badge-${value.toLowerCase()}`}>{value}</span>;
}

/** A secret shown once, with a copy button. */
export function Secret({ label, value }: { label: string; value: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div class="secret" role="status">
      <p>
        <strong>{label}</strong> It is shown only now: copy it somewhere safe.
      </p>
      <code data-secret>{value}</code>{' '}
      <button
        type="button"
        onClick={() =>
          navigator.clipboard?.writeText(value).then(
            () => setCopied(true),
            () => undefined,
          )
        }
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
}
