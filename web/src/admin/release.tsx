// A release: its facts and counters, status actions with confirmation, rollout and policy
// switches, changelog, artifacts with drag-and-drop uploads (POST /artifacts, then a PUT of the
// bytes to the signed upload URL, with a progress bar per file), constraints and its event log.
import { useRef, useState } from 'preact/hooks';
import { bytes, filetypeOf, many, message, one, putFile, related, when } from '../api';
import type { Resource } from '../api';
import { Badge, ConfirmButton, Empty, ErrorBox, Field, Link, Show, Switch, useAction, useLoad } from '../ui';
import { api, q } from './session';

interface Upload {
  name: string;
  fraction: number;
  state: 'uploading' | 'done' | 'failed';
  error?: string;
}

/** Guesses an artifact's platform from its filename (editable before dropping). */
function platformOf(filename: string, fallback: string): string {
  const f = filename.toLowerCase();
  // darwin before windows: "darwin" contains "win"
  if (/\.(dmg|pkg)$/.test(f) || f.includes('darwin') || f.includes('mac')) return 'darwin';
  if (/\.(exe|msi|nupkg)$/.test(f) || /(^|[^a-z])win/.test(f)) return 'windows';
  if (/\.(deb|rpm|appimage)$/.test(f) || f.includes('linux')) return 'linux';
  return fallback;
}

function Uploader({ release, status, onDone }: { release: string; status: string; onDone: () => void }) {
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [over, setOver] = useState(false);
  const [platform, setPlatform] = useState('linux');
  const [arch, setArch] = useState('amd64');
  const [publish, setPublish] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);

  const start = async (files: File[]) => {
    if (!files.length) return;
    setError(null);
    const offset = uploads.length;
    setUploads((u) => [...u, ...files.map((f) => ({ name: f.name, fraction: 0, state: 'uploading' as const }))]);
    const update = (i: number, patch: Partial<Upload>) => setUploads((u) => u.map((x, j) => (j === offset + i ? { ...x, ...patch } : x)));
    const results = await Promise.all(
      files.map(async (file, i) => {
        try {
          const doc = await api('/artifacts', {
            method: 'POST',
            headers: { Prefer: 'no-redirect' },
            body: {
              data: {
                type: 'artifacts',
                attributes: { filename: file.name, filetype: filetypeOf(file.name), filesize: file.size, platform: platformOf(file.name, platform), arch: arch || undefined },
                relationships: { release: { data: { type: 'releases', id: release } } },
              },
            },
          });
          await putFile(one(doc).links!.redirect!, file, (fraction) => update(i, { fraction }));
          update(i, { state: 'done', fraction: 1 });
          return true;
        } catch (e) {
          update(i, { state: 'failed', error: message(e) });
          return false;
        }
      }),
    );
    if (publish && results.every(Boolean) && status !== 'PUBLISHED') {
      try {
        await api(`/releases/${release}/actions/publish`, { method: 'POST' });
      } catch (e) {
        setError(message(e));
      }
    }
    onDone();
  };

  return (
    <div>
      <div class="row">
        <Field label="Platform of dropped files" hint="Guessed from .exe, .dmg, .deb… names">
          <input value={platform} onInput={(e) => setPlatform((e.target as HTMLInputElement).value)} />
        </Field>
        <Field label="Arch">
          <input value={arch} onInput={(e) => setArch((e.target as HTMLInputElement).value)} />
        </Field>
        {status !== 'PUBLISHED' && <Switch label="Publish when the uploads finish" checked={publish} onChange={setPublish} />}
      </div>
      <div
        class={`dropzone${over ? ' over' : ''}`}
        data-testid="dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          start([...(e.dataTransfer?.files ?? [])]);
        }}
      >
        <p>Drop files here to upload them to this release, or</p>
        <label class="button primary">
          Choose files
          <input
            ref={input}
            class="visually-hidden"
            type="file"
            multiple
            onChange={(e) => {
              const el = e.target as HTMLInputElement;
              start([...(el.files ?? [])]);
              el.value = '';
            }}
          />
        </label>
      </div>
      {uploads.length > 0 && (
        <ul aria-label="Uploads" style={{ listStyle: 'none', padding: 0 }}>
          {uploads.map((u) => (
            <li class="upload" data-upload={u.state}>
              <span>{u.name}</span>
              <progress max={1} value={u.fraction} aria-label={`Upload of ${u.name}`} />
              <span aria-live="polite">{u.state === 'done' ? 'Done' : u.state === 'failed' ? 'Failed' : `${Math.round(u.fraction * 100)}%`}</span>
              {u.error && (
                <span class="error" role="alert" style={{ gridColumn: '1 / -1' }}>
                  {u.error}
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
      <ErrorBox error={error} />
    </div>
  );
}

function Artifacts({ release, reloadKey }: { release: string; reloadKey: number }) {
  const artifacts = useLoad(() => api(`/releases/${release}/artifacts?page[size]=100`), [release, reloadKey]);
  const yank = useAction();
  return (
    <Show loaded={artifacts}>
      {(doc) =>
        many(doc).length === 0 ? (
          <Empty>No files yet: drop them below.</Empty>
        ) : (
          <div class="table-wrap">
            <table id="artifacts">
              <caption class="visually-hidden">Files of this release</caption>
              <thead>
                <tr>
                  <th>File</th>
                  <th>Platform</th>
                  <th class="num">Size</th>
                  <th>Status</th>
                  <th class="num">Downloads</th>
                  <th class="hide-narrow">SHA-256</th>
                  <th>
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {many(doc).map((a) => (
                  <tr key={a.id}>
                    <td>{a.attributes.filename}</td>
                    <td>{[a.attributes.platform, a.attributes.arch].filter(Boolean).join('/') || 'any'}</td>
                    <td class="num">{bytes(a.attributes.filesize)}</td>
                    <td>
                      <Badge value={a.attributes.status} />
                    </td>
                    <td class="num">{a.attributes.downloads ?? 0}</td>
                    <td class="hide-narrow">
                      <code>{a.attributes.sha256 ?? '—'}</code>
                    </td>
                    <td>
                      {a.attributes.status !== 'YANKED' && (
                        <ConfirmButton
                          label="Yank file"
                          question={`Yank ${a.attributes.filename}? Its download links stop working at once.`}
                          confirm="Yank file"
                          danger
                          onConfirm={() => yank.run(() => api(`/artifacts/${a.id}`, { method: 'DELETE' })).then(artifacts.reload)}
                        />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <ErrorBox error={yank.error} />
          </div>
        )
      }
    </Show>
  );
}

function Constraints({ release }: { release: string }) {
  const constraints = useLoad(() => api(`/releases/${release}/constraints?include=entitlement&page[size]=100`), [release]);
  const entitlements = useLoad(() => api('/entitlements?page[size]=100'), []);
  const change = useAction();
  const [pick, setPick] = useState('');
  const attach = (e: Event) => {
    e.preventDefault();
    if (!pick) return;
    change
      .run(() => api(`/releases/${release}/constraints`, { method: 'POST', body: { data: [{ type: 'constraints', relationships: { entitlement: { data: { type: 'entitlements', id: pick } } } }] } }))
      .then(constraints.reload);
  };
  return (
    <Show loaded={constraints}>
      {(doc) => {
        const names = new Map((doc.included ?? []).map((r) => [r.id, r.attributes.name ?? r.attributes.code]));
        return (
          <>
            {many(doc).length === 0 ? (
              <p class="muted">No constraint: every license of the product may download this release.</p>
            ) : (
              <ul>
                {many(doc).map((c) => {
                  const ent = related(c, 'entitlement')!;
                  return (
                    <li key={c.id} class="row">
                      Requires <strong>{names.get(ent) ?? ent}</strong>
                      <button type="button" onClick={() => change.run(() => api(`/releases/${release}/constraints`, { method: 'DELETE', body: { data: [{ type: 'constraints', id: c.id }] } })).then(constraints.reload)}>
                        Remove<span class="visually-hidden"> constraint {names.get(ent)}</span>
                      </button>
                    </li>
                  );
                })}
              </ul>
            )}
            <form class="row" onSubmit={attach} aria-label="Add a constraint">
              <Field label="Require entitlement">
                <select value={pick} onChange={(e) => setPick((e.target as HTMLSelectElement).value)}>
                  <option value="">Choose…</option>
                  {(entitlements.data ? many(entitlements.data) : []).map((en) => (
                    <option value={en.id}>
                      {en.attributes.name} ({en.attributes.code})
                    </option>
                  ))}
                </select>
              </Field>
              <button disabled={!pick || change.busy}>Add constraint</button>
            </form>
            <ErrorBox error={change.error} />
          </>
        );
      }}
    </Show>
  );
}

export function EventList({ resource }: { resource?: string }) {
  const events = useLoad(() => api(`/events${q({ resource, 'page[size]': 25 })}`), [resource]);
  return (
    <Show loaded={events}>
      {(doc) =>
        many(doc).length === 0 ? (
          <Empty>No events.</Empty>
        ) : (
          <ol class="events" reversed>
            {many(doc).map((ev) => (
              <li key={ev.id}>
                <code>{ev.attributes.event}</code> <span class="muted">{when(ev.attributes.created)}</span>
              </li>
            ))}
          </ol>
        )
      }
    </Show>
  );
}

function Policy({ release, reload }: { release: Resource; reload: () => void }) {
  const a = release.attributes;
  const [rollout, setRollout] = useState<number>(a.rolloutPercentage ?? 100);
  // shown at once, saved in the background (the component is remade from the saved release)
  const [critical, setCritical] = useState<boolean>(!!a.critical);
  const [required, setRequired] = useState<boolean>(!!a.required);
  const save = useAction();
  const patch = (attributes: Record<string, unknown>) => save.run(() => api(`/releases/${release.id}`, { method: 'PATCH', body: { data: { type: 'releases', id: release.id, attributes } } })).then(reload);
  return (
    <div class="panel">
      <Field label={`Rollout: ${rollout}% of licenses`} hint="Raising it only adds customers; 0 pauses the rollout.">
        <input
          type="range"
          min={0}
          max={100}
          step={5}
          value={rollout}
          aria-valuetext={`${rollout} percent`}
          onInput={(e) => setRollout(Number((e.target as HTMLInputElement).value))}
          onChange={(e) => patch({ rolloutPercentage: Number((e.target as HTMLInputElement).value) })}
        />
      </Field>
      <div class="row">
        <Switch
          label="Critical"
          checked={critical}
          disabled={save.busy}
          onChange={(on) => {
            setCritical(on);
            patch({ critical: on });
          }}
        />
        <Switch
          label="Required (stepping stone)"
          checked={required}
          disabled={save.busy}
          onChange={(on) => {
            setRequired(on);
            patch({ required: on });
          }}
        />
        {save.busy && <span class="muted">Saving…</span>}
      </div>
      <ErrorBox error={save.error} />
    </div>
  );
}

function Changelog({ release, reload }: { release: Resource; reload: () => void }) {
  const [editing, setEditing] = useState(false);
  const save = useAction();
  if (!editing)
    return (
      <>
        {release.attributes.description ? <div class="changelog panel">{release.attributes.description}</div> : <p class="muted">No changelog.</p>}
        <button type="button" onClick={() => setEditing(true)}>
          Edit changelog
        </button>
      </>
    );
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        const description = new FormData(e.target as HTMLFormElement).get('description');
        save.run(() => api(`/releases/${release.id}`, { method: 'PATCH', body: { data: { type: 'releases', id: release.id, attributes: { description } } } })).then((ok) => {
          if (ok) {
            setEditing(false);
            reload();
          }
        });
      }}
    >
      <Field label="Changelog">
        <textarea name="description" defaultValue={release.attributes.description ?? ''} />
      </Field>
      <ErrorBox error={save.error} />
      <div class="row">
        <button class="primary" disabled={save.busy}>
          Save changelog
        </button>
        <button type="button" onClick={() => setEditing(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function ReleasePage({ id }: { id: string }) {
  const [files, setFiles] = useState(0);
  const release = useLoad(() => api(`/releases/${id}`), [id, files]);
  const action = useAction();
  const act = (name: string) => action.run(() => api(`/releases/${id}/actions/${name}`, { method: 'POST' })).then(release.reload);
  return (
    <Show loaded={release}>
      {(doc) => {
        const r = one(doc);
        const a = r.attributes;
        const product = related(r, 'product');
        return (
          <>
            <p>
              <Link href="/admin">Products</Link> / {product && <Link href={`/admin/products/${product}`}>Releases</Link>} /
            </p>
            <h1>
              {a.name || `Version ${a.version}`} <Badge value={a.status} />
            </h1>
            <dl class="facts panel">
              <dt>Version</dt>
              <dd>{a.version}</dd>
              <dt>Channel</dt>
              <dd>{a.channel}</dd>
              {a.tag && (
                <>
                  <dt>Tag</dt>
                  <dd>{a.tag}</dd>
                </>
              )}
              <dt>Status</dt>
              <dd data-testid="release-status">{a.status}</dd>
              <dt>Downloads</dt>
              <dd>{a.downloads}</dd>
              <dt>Upgrades</dt>
              <dd>{a.upgrades}</dd>
              <dt>Created</dt>
              <dd>{when(a.created)}</dd>
              {a.yanked && (
                <>
                  <dt>Yanked</dt>
                  <dd>{when(a.yanked)}</dd>
                </>
              )}
            </dl>
            <div class="row" role="group" aria-label="Status">
              {a.status !== 'PUBLISHED' && <ConfirmButton label="Publish" question={`Publish ${a.version}? Customers will be offered it.`} confirm="Publish" onConfirm={() => act('publish')} />}
              {a.status !== 'YANKED' && <ConfirmButton label="Yank" question={`Yank ${a.version}? Customers stop seeing it and its download links stop working.`} confirm="Yank" danger onConfirm={() => act('yank')} />}
              {a.status !== 'DRAFT' && <ConfirmButton label="Back to draft" question={`Move ${a.version} back to draft? Customers stop seeing it.`} confirm="Move to draft" onConfirm={() => act('draft')} />}
            </div>
            <ErrorBox error={action.error} />
            <h2>Rollout and policy</h2>
            <Policy key={`${a.rolloutPercentage}-${a.critical}-${a.required}`} release={r} reload={release.reload} />
            <h2>Changelog</h2>
            <Changelog release={r} reload={release.reload} />
            <h2>Files</h2>
            <Artifacts release={id} reloadKey={files} />
            <Uploader release={id} status={a.status} onDone={() => setFiles((n) => n + 1)} />
            <h2>Constraints</h2>
            <Constraints release={id} />
            <h2>Event log</h2>
            <EventList resource={id} key={files} />
          </>
        );
      }}
    </Show>
  );
}
