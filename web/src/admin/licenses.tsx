// Licenses (the key shown once at creation, suspend/reinstate, entitlements, version pin) and the
// account's entitlements.
import { useState } from 'preact/hooks';
import { many, one, relative, related, when } from '../api';
import type { Doc, Resource } from '../api';
import { Badge, ConfirmButton, Empty, ErrorBox, Field, Link, Secret, Show, useAction, useLoad } from '../ui';
import { api, follow, q } from './session';

function Entitlements() {
  const list = useLoad(() => api('/entitlements?page[size]=100'), []);
  const create = useAction();
  return (
    <section aria-labelledby="ent-h">
      <h2 id="ent-h">Entitlements</h2>
      <Show loaded={list}>
        {(doc) =>
          many(doc).length === 0 ? (
            <p class="muted">No entitlements. An entitlement gates releases and files (constraints) to the licenses that hold it.</p>
          ) : (
            <ul class="row" style={{ listStyle: 'none', padding: 0 }}>
              {many(doc).map((e) => (
                <li class="badge" key={e.id}>
                  {e.attributes.name} · {e.attributes.code}
                </li>
              ))}
            </ul>
          )
        }
      </Show>
      <form
        class="panel grid"
        aria-label="New entitlement"
        onSubmit={(e) => {
          e.preventDefault();
          const form = e.target as HTMLFormElement;
          const f = new FormData(form);
          create.run(() => api('/entitlements', { method: 'POST', body: { data: { type: 'entitlements', attributes: { name: f.get('name'), code: f.get('code') } } } })).then((ok) => {
            if (ok) {
              form.reset();
              list.reload();
            }
          });
        }}
      >
        <Field label="Entitlement name">
          <input name="name" required />
        </Field>
        <Field label="Entitlement code">
          <input name="code" required />
        </Field>
        <div class="field">
          <button disabled={create.busy}>Create entitlement</button>
        </div>
      </form>
      <ErrorBox error={create.error} />
    </section>
  );
}

function NewLicense({ onCreated }: { onCreated: () => void }) {
  const products = useLoad(() => api('/products?page[size]=100&sort=name'), []);
  const create = useAction();
  const [created, setCreated] = useState<Resource | null>(null);
  return (
    <section aria-labelledby="new-license-h">
      <h2 id="new-license-h">New license</h2>
      {created && <Secret label={`License key of ${created.attributes.name ?? 'the new license'}.`} value={created.attributes.key} />}
      <form
        class="panel grid"
        aria-label="New license"
        onSubmit={(e) => {
          e.preventDefault();
          const form = e.target as HTMLFormElement;
          const f = new FormData(form);
          const expiry = f.get('expiry') as string;
          create
            .run(async () => {
              const doc = await api('/licenses', {
                method: 'POST',
                body: {
                  data: {
                    type: 'licenses',
                    attributes: { name: f.get('name') || undefined, expiry: expiry ? new Date(expiry).toISOString() : undefined },
                    relationships: { product: { data: { type: 'products', id: f.get('product') } } },
                  },
                },
              });
              setCreated(one(doc));
              form.reset();
            })
            .then((ok) => ok && onCreated());
        }}
      >
        <Field label="Product">
          <select name="product" required>
            {(products.data ? many(products.data) : []).map((p) => (
              <option value={p.id}>{p.attributes.name}</option>
            ))}
          </select>
        </Field>
        <Field label="Name (optional)">
          <input name="name" />
        </Field>
        <Field label="Expiry (optional)">
          <input name="expiry" type="date" />
        </Field>
        <div class="field">
          <button class="primary" disabled={create.busy}>
            Create license
          </button>
        </div>
      </form>
      <ErrorBox error={create.error} />
    </section>
  );
}

export function Licenses() {
  const [pages, setPages] = useState<string[]>([]);
  const link = pages[pages.length - 1];
  const list = useLoad(() => (link ? follow<Doc<Resource[]>>(link) : api<Doc<Resource[]>>('/licenses?page[size]=25&page[cursor]=')), [link]);
  const products = useLoad(() => api('/products?page[size]=100').then((d) => new Map(many(d).map((p) => [p.id, p.attributes.name as string]))), []);
  return (
    <>
      <h1>Licenses</h1>
      <Show loaded={list}>
        {(doc) =>
          many(doc).length === 0 ? (
            <Empty>No licenses yet.</Empty>
          ) : (
            <>
              <div class="table-wrap">
                <table id="licenses">
                  <caption class="visually-hidden">Licenses, newest first</caption>
                  <thead>
                    <tr>
                      <th>Name</th>
                      <th>Product</th>
                      <th>Status</th>
                      <th class="hide-narrow">Expiry</th>
                      <th class="hide-narrow">Created</th>
                    </tr>
                  </thead>
                  <tbody>
                    {many(doc).map((l) => (
                      <tr key={l.id}>
                        <td>
                          <Link href={`/admin/licenses/${l.id}`}>{l.attributes.name || l.id.slice(0, 8)}</Link>
                        </td>
                        <td>{products.data?.get(related(l, 'product') ?? '') ?? '—'}</td>
                        <td>
                          <Badge value={l.attributes.status} />
                        </td>
                        <td class="hide-narrow">{when(l.attributes.expiry)}</td>
                        <td class="hide-narrow">{when(l.attributes.created)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <nav class="row" aria-label="License pages">
                <button type="button" disabled={!pages.length} onClick={() => setPages(pages.slice(0, -1))}>
                  Previous page
                </button>
                <button type="button" disabled={!doc.links?.next} onClick={() => setPages([...pages, relative(doc.links!.next!)])}>
                  Next page
                </button>
              </nav>
            </>
          )
        }
      </Show>
      <NewLicense
        onCreated={() => {
          setPages([]);
          list.reload();
        }}
      />
      <Entitlements />
    </>
  );
}

function LicenseEntitlements({ license }: { license: string }) {
  const held = useLoad(() => api(`/licenses/${license}/entitlements?page[size]=100`), [license]);
  const all = useLoad(() => api('/entitlements?page[size]=100'), []);
  const change = useAction();
  const [pick, setPick] = useState('');
  const body = (id: string) => ({ data: [{ type: 'entitlements', id }] });
  return (
    <Show loaded={held}>
      {(doc) => {
        const ids = new Set(many(doc).map((e) => e.id));
        return (
          <>
            {many(doc).length === 0 ? (
              <p class="muted">No entitlements.</p>
            ) : (
              <ul>
                {many(doc).map((e) => (
                  <li class="row" key={e.id}>
                    {e.attributes.name} ({e.attributes.code})
                    <button type="button" onClick={() => change.run(() => api(`/licenses/${license}/entitlements`, { method: 'DELETE', body: body(e.id) })).then(held.reload)}>
                      Detach<span class="visually-hidden"> {e.attributes.name}</span>
                    </button>
                  </li>
                ))}
              </ul>
            )}
            <form
              class="row"
              aria-label="Attach an entitlement"
              onSubmit={(e) => {
                e.preventDefault();
                if (pick) change.run(() => api(`/licenses/${license}/entitlements`, { method: 'POST', body: body(pick) })).then(held.reload);
              }}
            >
              <Field label="Attach entitlement">
                <select value={pick} onChange={(e) => setPick((e.target as HTMLSelectElement).value)}>
                  <option value="">Choose…</option>
                  {(all.data ? many(all.data) : [])
                    .filter((e) => !ids.has(e.id))
                    .map((e) => (
                      <option value={e.id}>
                        {e.attributes.name} ({e.attributes.code})
                      </option>
                    ))}
                </select>
              </Field>
              <button disabled={!pick || change.busy}>Attach</button>
            </form>
            <ErrorBox error={change.error} />
          </>
        );
      }}
    </Show>
  );
}

function Pin({ license }: { license: Resource }) {
  const save = useAction();
  const [saved, setSaved] = useState(false);
  return (
    <form
      class="row"
      aria-label="Version pin"
      onSubmit={(e) => {
        e.preventDefault();
        const pin = String(new FormData(e.target as HTMLFormElement).get('pin')).trim();
        setSaved(false);
        save
          .run(() => api(`/licenses/${license.id}`, { method: 'PATCH', body: { data: { type: 'licenses', id: license.id, attributes: { versionPin: pin || null } } } }))
          .then((ok) => setSaved(ok));
      }}
    >
      <Field label="Version pin" hint="A semver range such as ~2.4 or <3; empty: no pin">
        <input name="pin" defaultValue={license.attributes.versionPin ?? ''} />
      </Field>
      <button>Save pin</button>
      {saved && (
        <span class="ok" role="status">
          Saved
        </span>
      )}
      <ErrorBox error={save.error} />
    </form>
  );
}

/** The key stays hidden on the license's page until asked for (it was shown at creation). */
function RevealKey({ value }: { value: string }) {
  const [shown, setShown] = useState(false);
  return shown ? (
    <code>{value}</code>
  ) : (
    <button type="button" onClick={() => setShown(true)}>
      Reveal key
    </button>
  );
}

export function LicensePage({ id }: { id: string }) {
  const license = useLoad(() => api(`/licenses/${id}`), [id]);
  const action = useAction();
  return (
    <Show loaded={license}>
      {(doc) => {
        const l = one(doc);
        const a = l.attributes;
        const product = related(l, 'product');
        return (
          <>
            <p>
              <Link href="/admin/licenses">Licenses</Link> /
            </p>
            <h1>
              {a.name || 'License'} <Badge value={a.status} />
            </h1>
            <dl class="facts panel">
              <dt>Key</dt>
              <dd>
                <RevealKey value={a.key} />
              </dd>
              <dt>Expiry</dt>
              <dd>{when(a.expiry)}</dd>
              <dt>Expiration strategy</dt>
              <dd>{a.expirationStrategy}</dd>
              <dt>Created</dt>
              <dd>{when(a.created)}</dd>
            </dl>
            <div class="row">
              {a.suspended ? (
                <button type="button" onClick={() => action.run(() => api(`/licenses/${id}/actions/reinstate`, { method: 'POST' })).then(license.reload)}>
                  Reinstate
                </button>
              ) : (
                <ConfirmButton
                  label="Suspend"
                  question="Suspend this license? Its key stops working until it is reinstated."
                  confirm="Suspend"
                  danger
                  onConfirm={() => action.run(() => api(`/licenses/${id}/actions/suspend`, { method: 'POST' })).then(license.reload)}
                />
              )}
              <Link class="button" href={`/admin/explain${q({ license: id, product })}`}>
                Why no update?
              </Link>
            </div>
            <ErrorBox error={action.error} />
            <h2>Entitlements</h2>
            <LicenseEntitlements license={id} />
            <h2>Pin</h2>
            <Pin license={l} />
          </>
        );
      }}
    </Show>
  );
}
