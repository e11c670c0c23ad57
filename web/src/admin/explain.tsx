// "Why no update?": what the update policy decides for one customer on one release line, and the
// rule behind each decision (GET /releases/actions/explain, admins only).
import { useState } from 'preact/hooks';
import { Badge, Empty, ErrorBox, Field, Loading } from '../ui';
import { api, q } from './session';
import { CHANNELS } from './products';

interface Decision {
  version?: string;
  decision?: string;
  reason?: string;
  [k: string]: unknown;
}

/** A decision of the answer: `data` is one `decisions` resource per release, newest first. */
function decisionOf(row: { attributes: Decision }): Decision {
  return row.attributes;
}

function detailOf(d: Decision): string {
  const skip = new Set(['version', 'decision', 'created', 'updated']);
  return Object.entries(d)
    .filter(([k, v]) => !skip.has(k) && v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' · ');
}

export function Explain({ query }: { query: URLSearchParams }) {
  const [answer, setAnswer] = useState<{ rows: Decision[]; meta?: Record<string, unknown> } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const get = (k: string) => String(f.get(k) ?? '').trim();
    setBusy(true);
    setError(null);
    try {
      const doc = await api(
        `/releases/actions/explain${q({ product: get('product'), platform: get('platform'), arch: get('arch'), filetype: get('filetype'), version: get('version'), channel: get('channel'), license: get('license') })}`,
      );
      setAnswer({ rows: (doc.data as Array<{ attributes: Decision }>).map(decisionOf), meta: doc.meta });
    } catch (err) {
      setAnswer(null);
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <h1>Why no update?</h1>
      <p class="muted">What a customer is offered on one release line, newest releases first, and the rule that decides each one.</p>
      <form class="panel grid" onSubmit={submit} aria-label="Explain the update decision">
        <Field label="License (id or key)">
          <input name="license" required defaultValue={query.get('license') ?? ''} />
        </Field>
        <Field label="Product (id or code)">
          <input name="product" required defaultValue={query.get('product') ?? ''} />
        </Field>
        <Field label="Current version">
          <input name="version" required placeholder="1.0.0" />
        </Field>
        <Field label="Platform">
          <input name="platform" placeholder="linux" />
        </Field>
        <Field label="Arch">
          <input name="arch" placeholder="amd64" />
        </Field>
        <Field label="Filetype">
          <input name="filetype" placeholder="tar.gz" />
        </Field>
        <Field label="Channel">
          <select name="channel">
            {CHANNELS.map((c) => (
              <option value={c}>{c}</option>
            ))}
          </select>
        </Field>
        <div class="field">
          <button class="primary" disabled={busy}>
            Explain
          </button>
        </div>
      </form>
      <ErrorBox error={error} />
      {busy && <Loading what="Asking the server" />}
      {answer &&
        (answer.rows.length === 0 ? (
          <Empty>No release on this line.</Empty>
        ) : (
          <div class="table-wrap">
            <table id="explain">
              <caption class="visually-hidden">Decisions, newest release first</caption>
              <thead>
                <tr>
                  <th>Version</th>
                  <th>Decision</th>
                  <th>Why</th>
                </tr>
              </thead>
              <tbody>
                {answer.rows.map((d) => (
                  <tr>
                    <td>{d.version ?? '—'}</td>
                    <td>{d.decision ? <Badge value={d.decision} /> : '—'}</td>
                    <td>{detailOf(d) || '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
    </>
  );
}
