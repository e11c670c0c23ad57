// The customer portal at /portal/:account: OPEN products without signing in; with a license key,
// the releases and files that key may download (the API decides), newest first, with changelogs,
// checksums and download buttons. The key lives in this tab's sessionStorage.
import '../styles.css';
import { render } from 'preact';
import { useState } from 'preact/hooks';
import { bytes, call, message, one, related, relative, when } from '../api';
import type { Credential, Doc, Resource } from '../api';
import { Empty, ErrorBox, Field, Loading, useLoad } from '../ui';

const account = decodeURIComponent(location.pathname.split('/')[2] ?? '');
const base = `/v1/accounts/${encodeURIComponent(account)}`;
const STORE = `shipgate.portal.${account}`;

interface Catalogue {
  products: Map<string, Resource>;
  releases: Resource[];
  artifacts: Map<string, Resource[]>;
  next: string | null;
}

/** One page of releases, newest first, with their products and the files this caller may download (the API filters them). */
async function load(credential: Credential, link: string | null): Promise<Catalogue> {
  const doc = await call<Doc<Resource[]>>(link ?? `${base}/releases?include=product,artifacts&sort=-created&page[size]=25&page[cursor]=`, { credential });
  const byRelease = new Map<string, Resource[]>();
  for (const a of (doc.included ?? []).filter((r) => r.type === 'artifacts')) {
    const r = related(a, 'release');
    if (r) byRelease.set(r, [...(byRelease.get(r) ?? []), a]);
  }
  const products = new Map((doc.included ?? []).filter((r) => r.type === 'products').map((p) => [p.id, p]));
  return { products, releases: doc.data, artifacts: byRelease, next: doc.links?.next ? relative(doc.links.next) : null };
}

function Download({ artifact, credential }: { artifact: Resource; credential: Credential }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const a = artifact.attributes;
  const go = async () => {
    setBusy(true);
    setError(null);
    try {
      // the API answers a signed, expiring URL for this file; the browser downloads from it
      const doc = await call(`${base}/artifacts/${artifact.id}`, { credential, headers: { Prefer: 'no-redirect' } });
      const link = document.createElement('a');
      link.href = one(doc).links!.redirect!;
      link.download = a.filename;
      document.body.append(link);
      link.click();
      link.remove();
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <li class="artifact">
      <div class="row">
        <button type="button" class="primary" disabled={busy} onClick={go}>
          Download<span class="visually-hidden"> {a.filename}</span>
        </button>
        <span>
          <strong>{a.filename}</strong> · {[a.platform, a.arch].filter(Boolean).join('/') || 'any platform'} · {bytes(a.filesize)}
        </span>
      </div>
      {a.sha256 && (
        <p class="muted">
          SHA-256 <code>{a.sha256}</code>
        </p>
      )}
      <ErrorBox error={error} />
    </li>
  );
}

function Releases({ credential }: { credential: Credential }) {
  const [links, setLinks] = useState<string[]>([]);
  const catalogue = useLoad(async () => {
    // the first page, then each "older releases" page, merged
    const pages = [await load(credential, null)];
    for (const link of links) pages.push(await load(credential, link));
    return {
      products: new Map(pages.flatMap((p) => [...p.products])),
      releases: pages.flatMap((p) => p.releases),
      artifacts: new Map(pages.flatMap((p) => [...p.artifacts])),
      next: pages[pages.length - 1].next,
    };
  }, [credential && JSON.stringify(credential), links.join(' ')]);
  if (catalogue.error) return <ErrorBox error={catalogue.error} />;
  if (!catalogue.data) return <Loading what="Loading downloads" />;
  const { products, releases, artifacts, next } = catalogue.data;
  if (!releases.length) return <Empty>{credential ? 'Nothing to download with this key yet.' : 'No public downloads. Sign in with your license key to see yours.'}</Empty>;
  const groups = new Map<string, Resource[]>();
  for (const r of releases) {
    const p = related(r, 'product') ?? '';
    groups.set(p, [...(groups.get(p) ?? []), r]);
  }
  return (
    <>
      {[...groups].map(([productId, list]) => (
        <section class="product" aria-labelledby={`p-${productId}`}>
          <h2 id={`p-${productId}`}>{products.get(productId)?.attributes.name ?? 'Product'}</h2>
          {list.map((r, i) => {
            const files = artifacts.get(r.id) ?? [];
            return (
              <article class="release" aria-labelledby={`r-${r.id}`}>
                <h3 id={`r-${r.id}`}>
                  {r.attributes.name || r.attributes.version} <span class="muted">· {r.attributes.channel} · {when(r.attributes.created)}</span>
                </h3>
                {r.attributes.description && (
                  <details open={i === 0}>
                    <summary>Changelog</summary>
                    <div class="changelog">{r.attributes.description}</div>
                  </details>
                )}
                {files.length ? (
                  <ul style={{ listStyle: 'none', padding: 0 }}>
                    {files.map((a) => (
                      <Download artifact={a} credential={credential} />
                    ))}
                  </ul>
                ) : (
                  <p class="muted">No files for you in this release.</p>
                )}
              </article>
            );
          })}
        </section>
      ))}
      {next && (
        <button type="button" disabled={catalogue.loading} onClick={() => setLinks([...links, next])}>
          Older releases
        </button>
      )}
    </>
  );
}

function Portal() {
  const [key, setKey] = useState<string | null>(sessionStorage.getItem(STORE));
  const [license, setLicense] = useState<Resource | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const credential: Credential = key ? { license: key } : null;
  const signIn = async (e: Event) => {
    e.preventDefault();
    const value = String(new FormData(e.target as HTMLFormElement).get('key')).trim();
    setBusy(true);
    setError(null);
    try {
      // the key is checked by reading the license it belongs to
      const doc = await call(`${base}/me`, { credential: { license: value } });
      setLicense(one(doc));
      sessionStorage.setItem(STORE, value);
      setKey(value);
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Downloads</span>
        <span>{account}</span>
        <span style={{ flex: 1 }} />
        {key && (
          <button
            type="button"
            onClick={() => {
              sessionStorage.removeItem(STORE);
              setKey(null);
              setLicense(null);
            }}
          >
            Sign out
          </button>
        )}
      </header>
      <main id="main">
        <h1>{key ? `Your downloads${license?.attributes.name ? ` — ${license.attributes.name}` : ''}` : 'Downloads'}</h1>
        {!key && (
          <form class="panel row" onSubmit={signIn} aria-label="Sign in with a license key">
            <Field label="License key">
              <input name="key" required autocomplete="off" spellcheck={false} class="key-input" />
            </Field>
            <button class="primary" disabled={busy}>
              {busy ? 'Checking…' : 'Show my downloads'}
            </button>
          </form>
        )}
        <ErrorBox error={error} />
        <Releases credential={credential} />
      </main>
    </>
  );
}

render(<Portal />, document.getElementById('app')!);
