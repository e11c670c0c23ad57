// Products, and a product's releases: filters and keyset (cursor) pages, so the first page of a
// product with 100,000 releases costs one indexed query, and creating a release.
import { useState } from 'preact/hooks';
import { many, one, relative, when } from '../api';
import type { Doc, Resource } from '../api';
import { Badge, Empty, ErrorBox, Field, Link, navigate, Show, Switch, useAction, useLoad } from '../ui';
import { api, q, session } from './session';

export const CHANNELS = ['stable', 'rc', 'beta', 'alpha', 'dev'];

export function Products() {
  const products = useLoad(() => api('/products?page[size]=100&sort=name'), []);
  const create = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const f = new FormData(form);
    const ok = await create.run(() =>
      api('/products', {
        method: 'POST',
        body: { data: { type: 'products', attributes: { name: f.get('name'), code: f.get('code') || undefined, distributionStrategy: f.get('strategy') } } },
      }),
    );
    if (ok) {
      form.reset();
      products.reload();
    }
  };
  return (
    <>
      <h1>Products</h1>
      <Show loaded={products}>
        {(doc) =>
          many(doc).length === 0 ? (
            <Empty>No products yet: create the first one below.</Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <caption class="visually-hidden">Products</caption>
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Code</th>
                    <th>Distribution</th>
                    <th class="hide-narrow">Created</th>
                    <th>Analytics</th>
                  </tr>
                </thead>
                <tbody>
                  {many(doc).map((p) => (
                    <tr key={p.id}>
                      <td>
                        <Link href={`/admin/products/${p.id}`}>{p.attributes.name}</Link>
                      </td>
                      <td>{p.attributes.code ?? '—'}</td>
                      <td>{p.attributes.distributionStrategy}</td>
                      <td class="hide-narrow">{when(p.attributes.created)}</td>
                      <td>
                        <Link href={`/admin/products/${p.id}/analytics`}>Charts<span class="visually-hidden"> of {p.attributes.name}</span></Link>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Show>
      <h2>New product</h2>
      <form class="panel grid" onSubmit={submit} aria-label="New product">
        <Field label="Name">
          <input name="name" required />
        </Field>
        <Field label="Code (optional)">
          <input name="code" pattern="[A-Za-z0-9._\-]+" />
        </Field>
        <Field label="Distribution">
          <select name="strategy">
            <option value="LICENSED">Licensed (a key is needed)</option>
            <option value="OPEN">Open (anyone may download)</option>
            <option value="CLOSED">Closed (admins only)</option>
          </select>
        </Field>
        <div class="field">
          <button class="primary" disabled={create.busy}>
            Create product
          </button>
        </div>
      </form>
      <ErrorBox error={create.error} />
    </>
  );
}

interface Filters {
  channel: string;
  status: string;
  platform: string;
  version: string;
}

/** The releases table: one page at a time, `page[cursor]` from the API's next link, a stack of cursors for "previous". */
function ReleasesTable({ product, query }: { product: string; query: URLSearchParams }) {
  const filters: Filters = { channel: query.get('channel') ?? '', status: query.get('status') ?? '', platform: query.get('platform') ?? '', version: query.get('version') ?? '' };
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1] ?? '';
  const key = JSON.stringify(filters);
  const [shownKey, setShownKey] = useState(key);
  if (shownKey !== key) {
    setShownKey(key);
    setCursors([]);
  }
  const page = useLoad(async () => {
    const started = performance.now();
    const doc = await api<Doc<Resource[]>>(
      `/releases${q({
        product,
        channel: filters.channel,
        status: filters.status,
        platform: filters.platform,
        version: filters.version,
        'page[size]': 25,
        'fields[releases]': 'version,channel,status,tag,name,downloads,upgrades,rolloutPercentage,critical,created',
      })}&page[cursor]=${encodeURIComponent(cursor)}`,
    );
    return { doc, ms: Math.round(performance.now() - started), number: cursors.length + 1 };
  }, [product, key, cursor]);
  const apply = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    navigate(`/admin/products/${product}${q({ channel: f.get('channel') as string, status: f.get('status') as string, platform: f.get('platform') as string, version: f.get('version') as string })}`);
  };
  const nextCursor = (doc: Doc) => (doc.links?.next ? new URL(relative(doc.links.next), location.origin).searchParams.get('page[cursor]') : null);
  return (
    <section aria-labelledby="releases-h">
      <h2 id="releases-h">Releases</h2>
      <form key={key} class="filters panel" onSubmit={apply} aria-label="Filter releases">
        <Field label="Channel">
          <select name="channel">
            <option value="">Any</option>
            {CHANNELS.map((c) => (
              <option value={c} selected={filters.channel === c}>
                {c} (and more stable)
              </option>
            ))}
          </select>
        </Field>
        <Field label="Status">
          <select name="status">
            <option value="">Any</option>
            {['DRAFT', 'PUBLISHED', 'YANKED'].map((s) => (
              <option value={s} selected={filters.status === s}>
                {s[0] + s.slice(1).toLowerCase()}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Platform">
          <input name="platform" defaultValue={filters.platform} placeholder="e.g. linux" />
        </Field>
        <Field label="Version (exact)">
          <input name="version" type="search" defaultValue={filters.version} placeholder="e.g. 1.4.0" />
        </Field>
        <div class="field">
          <button>Apply filters</button>
        </div>
      </form>
      <Show loaded={page}>
        {({ doc, ms, number }) => (
          <>
            <p class="muted" role="status" data-testid="releases-count">
              {doc.meta?.countEstimated ? 'About ' : ''}
              {doc.meta?.count ?? many(doc).length} releases · page {number} · {ms} ms
            </p>
            {many(doc).length === 0 ? (
              <Empty>No release matches.</Empty>
            ) : (
              <div class="table-wrap">
                <table id="releases">
                  <caption class="visually-hidden">Releases, newest first</caption>
                  <thead>
                    <tr>
                      <th>Version</th>
                      <th>Channel</th>
                      <th>Status</th>
                      <th class="num hide-narrow">Rollout</th>
                      <th class="num">Downloads</th>
                      <th class="hide-narrow">Created</th>
                    </tr>
                  </thead>
                  <tbody>
                    {many(doc).map((r) => (
                      <tr key={r.id}>
                        <td>
                          <Link href={`/admin/releases/${r.id}`}>{r.attributes.version}</Link>
                          {r.attributes.critical && <span class="badge badge-failed">critical</span>}
                        </td>
                        <td>{r.attributes.channel}</td>
                        <td>
                          <Badge value={r.attributes.status} />
                        </td>
                        <td class="num hide-narrow">{r.attributes.rolloutPercentage}%</td>
                        <td class="num">{r.attributes.downloads}</td>
                        <td class="hide-narrow">{when(r.attributes.created)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
            <nav class="row" aria-label="Release pages">
              <button type="button" disabled={cursors.length === 0 || page.loading} onClick={() => setCursors(cursors.slice(0, -1))}>
                Previous page
              </button>
              <button type="button" disabled={!nextCursor(doc) || page.loading} onClick={() => setCursors([...cursors, nextCursor(doc)!])}>
                Next page
              </button>
            </nav>
          </>
        )}
      </Show>
    </section>
  );
}

function NewRelease({ product }: { product: string }) {
  const create = useAction();
  const [critical, setCritical] = useState(false);
  const [required, setRequired] = useState(false);
  const submit = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const attributes: Record<string, unknown> = {
      version: f.get('version'),
      channel: f.get('channel'),
      name: f.get('name') || undefined,
      description: f.get('description') || undefined,
      tag: f.get('tag') || undefined,
      critical,
    };
    if (required) attributes.required = true;
    create.run(async () => {
      const doc = await api('/releases', { method: 'POST', body: { data: { type: 'releases', attributes, relationships: { product: { data: { type: 'products', id: product } } } } } });
      navigate(`/admin/releases/${one(doc).id}`);
    });
  };
  return (
    <section aria-labelledby="new-release-h">
      <h2 id="new-release-h">New release</h2>
      <form class="panel" onSubmit={submit} aria-label="New release">
        <div class="grid">
          <Field label="Version" hint="Semver, e.g. 1.4.0 or 2.0.0-beta.1">
            <input name="version" required />
          </Field>
          <Field label="Channel">
            <select name="channel">
              {CHANNELS.map((c) => (
                <option value={c}>{c}</option>
              ))}
            </select>
          </Field>
          <Field label="Name (optional)">
            <input name="name" />
          </Field>
          <Field label="Tag (optional)">
            <input name="tag" pattern="[A-Za-z0-9._\-]+" />
          </Field>
        </div>
        <Field label="Changelog (optional)">
          <textarea name="description" />
        </Field>
        <div class="row">
          <Switch label="Critical" checked={critical} onChange={setCritical} />
          <Switch label="Required (stepping stone)" checked={required} onChange={setRequired} />
        </div>
        <ErrorBox error={create.error} />
        <p>
          <button class="primary" disabled={create.busy}>
            Create draft release
          </button>
        </p>
      </form>
    </section>
  );
}

export function ProductPage({ id, query }: { id: string; query: URLSearchParams }) {
  const product = useLoad(() => api(`/products/${id}`), [id]);
  return (
    <Show loaded={product}>
      {(doc) => (
        <>
          <p>
            <Link href="/admin">Products</Link> /
          </p>
          <h1>{one(doc).attributes.name}</h1>
          <p class="row">
            <span>
              Distribution: <strong>{one(doc).attributes.distributionStrategy}</strong>
            </span>
            <Link class="button" href={`/admin/products/${id}/analytics`}>
              Analytics
            </Link>
            <a class="button" href={`/portal/${encodeURIComponent(accountOf())}`}>
              Customer portal
            </a>
          </p>
          <ReleasesTable product={id} query={query} />
          <NewRelease product={id} />
        </>
      )}
    </Show>
  );
}

const accountOf = () => session().account;
