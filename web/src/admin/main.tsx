// The admin console at /admin: sign-in, then the pages of an account (docs/console.md).
import '../styles.css';
import { render } from 'preact';
import type { ComponentChildren } from 'preact';
import { lazy, Suspense } from 'preact/compat';
import { useState } from 'preact/hooks';
import { base64, call, message, one } from '../api';
import { ErrorBox, Field, Link, Loading, navigate, useLocation } from '../ui';
import { session, setSession } from './session';
import { Products, ProductPage } from './products';
import { ReleasePage } from './release';
import { Licenses, LicensePage } from './licenses';
import { Webhooks } from './webhooks';
import { Events } from './events';
import { Explain } from './explain';

// the charts (uPlot) load only when the analytics page opens
const Analytics = lazy(() => import('./analytics').then((m) => ({ default: m.Analytics })));

function SignIn() {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    const account = String(form.get('account')).trim();
    const email = String(form.get('email')).trim();
    setBusy(true);
    setError(null);
    try {
      const doc = await call(`/v1/accounts/${encodeURIComponent(account)}/tokens`, {
        method: 'POST',
        headers: { Authorization: `Basic ${base64(`${email}:${form.get('password')}`)}` },
      });
      setSession({ account, email, token: one(doc).attributes.token });
      navigate('/admin');
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main">
      <h1>Sign in to Shipgate</h1>
      <form class="panel" onSubmit={submit} style={{ maxWidth: '26rem' }} aria-describedby="signin-note">
        <Field label="Account (slug or id)">
          <input name="account" required autocomplete="organization" />
        </Field>
        <Field label="Email">
          <input name="email" type="email" required autocomplete="username" />
        </Field>
        <Field label="Password">
          <input name="password" type="password" required autocomplete="current-password" />
        </Field>
        <ErrorBox error={error} />
        <button class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p id="signin-note" class="muted">
          Your token is kept in this tab only and forgotten when you close it.
        </p>
      </form>
    </main>
  );
}

const NAV: [string, string][] = [
  ['/admin', 'Products'],
  ['/admin/licenses', 'Licenses'],
  ['/admin/webhooks', 'Webhooks'],
  ['/admin/events', 'Events'],
  ['/admin/explain', 'Why no update?'],
];

function Layout({ path, children }: { path: string; children: ComponentChildren }) {
  const current = NAV.slice()
    .reverse()
    .find(([href]) => path === href || (href !== '/admin' && path.startsWith(href)))?.[0] ?? '/admin';
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Shipgate</span>
        <nav aria-label="Console">
          {NAV.map(([href, label]) => (
            <Link href={href} aria-current={href === current ? 'page' : undefined}>
              {label}
            </Link>
          ))}
        </nav>
        <span>{session().account}</span>
        <button
          type="button"
          onClick={() => {
            setSession(null);
            navigate('/admin');
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main">{children}</main>
    </>
  );
}

function route(path: string, query: URLSearchParams) {
  let m: RegExpMatchArray | null;
  if ((m = path.match(/^\/admin\/products\/([^/]+)\/analytics$/))) return <Analytics product={m[1]} />;
  if ((m = path.match(/^\/admin\/products\/([^/]+)$/))) return <ProductPage id={m[1]} query={query} />;
  if ((m = path.match(/^\/admin\/releases\/([^/]+)$/))) return <ReleasePage id={m[1]} />;
  if ((m = path.match(/^\/admin\/licenses\/([^/]+)$/))) return <LicensePage id={m[1]} />;
  if (path === '/admin/licenses') return <Licenses />;
  if (path === '/admin/webhooks') return <Webhooks />;
  if (path === '/admin/events') return <Events />;
  if (path === '/admin/explain') return <Explain query={query} />;
  if (path === '/admin' || path === '/admin/') return <Products />;
  return <p>Nothing here. <Link href="/admin">Back to the products</Link></p>;
}

function App() {
  const { path, query } = useLocation();
  if (!session()) return <SignIn />;
  return (
    <Layout path={path}>
      <Suspense fallback={<Loading />}>{route(path, query)}</Suspense>
    </Layout>
  );
}

render(<App />, document.getElementById('app')!);
