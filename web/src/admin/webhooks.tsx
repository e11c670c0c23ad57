// Webhook endpoints (the secret shown once), each with its delivery log and a retry button.
import { useState } from 'preact/hooks';
import { many, one, when } from '../api';
import type { Resource } from '../api';
import { Badge, ConfirmButton, Empty, ErrorBox, Field, Secret, Show, useAction, useLoad } from '../ui';
import { api } from './session';

function Deliveries({ endpoint }: { endpoint: string }) {
  const list = useLoad(() => api(`/webhook-endpoints/${endpoint}/webhook-deliveries?page[size]=25`), [endpoint]);
  const retry = useAction();
  return (
    <Show loaded={list}>
      {(doc) =>
        many(doc).length === 0 ? (
          <p class="muted">No deliveries yet.</p>
        ) : (
          <div class="table-wrap">
            <table class="deliveries">
              <caption class="visually-hidden">Deliveries</caption>
              <thead>
                <tr>
                  <th>Event</th>
                  <th>Status</th>
                  <th class="num">Attempts</th>
                  <th class="hide-narrow">Last answer</th>
                  <th class="hide-narrow">Next attempt</th>
                  <th>
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {many(doc).map((d) => (
                  <tr key={d.id}>
                    <td>
                      <code>{d.attributes.event}</code>
                    </td>
                    <td>
                      <Badge value={d.attributes.status} />
                    </td>
                    <td class="num">{d.attributes.attempts}</td>
                    <td class="hide-narrow">{d.attributes.lastStatusCode ?? d.attributes.lastError ?? '—'}</td>
                    <td class="hide-narrow">{when(d.attributes.nextAttempt)}</td>
                    <td>
                      <button type="button" disabled={retry.busy} onClick={() => retry.run(() => api(`/webhook-deliveries/${d.id}/actions/retry`, { method: 'POST' })).then(list.reload)}>
                        Retry<span class="visually-hidden"> delivery of {d.attributes.event}</span>
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      }
    </Show>
  );
}

function Endpoint({ endpoint, reload }: { endpoint: Resource; reload: () => void }) {
  const change = useAction();
  const a = endpoint.attributes;
  const [open, setOpen] = useState(false);
  return (
    <div class="card endpoint">
      <p>
        <code>{a.url}</code> {a.enabled ? <Badge value="ACTIVE" /> : <Badge value="DISABLED" />}
      </p>
      <p class="muted">Events: {(a.events ?? []).join(', ')}</p>
      <div class="row">
        <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? 'Hide deliveries' : 'Show deliveries'}
        </button>
        <button type="button" onClick={() => change.run(() => api(`/webhook-endpoints/${endpoint.id}`, { method: 'PATCH', body: { data: { type: 'webhook-endpoints', id: endpoint.id, attributes: { enabled: !a.enabled } } } })).then(reload)}>
          {a.enabled ? 'Disable' : 'Enable'}
        </button>
        <ConfirmButton label="Delete" question={`Delete the endpoint ${a.url}?`} confirm="Delete" danger onConfirm={() => change.run(() => api(`/webhook-endpoints/${endpoint.id}`, { method: 'DELETE' })).then(reload)} />
      </div>
      <ErrorBox error={change.error} />
      {open && <Deliveries endpoint={endpoint.id} />}
    </div>
  );
}

export function Webhooks() {
  const list = useLoad(() => api('/webhook-endpoints?page[size]=100'), []);
  const create = useAction();
  const [secret, setSecret] = useState<string | null>(null);
  return (
    <>
      <h1>Webhooks</h1>
      <Show loaded={list}>
        {(doc) =>
          many(doc).length === 0 ? (
            <Empty>No endpoints yet.</Empty>
          ) : (
            <div class="stack">
              {many(doc).map((e) => (
                <Endpoint key={e.id} endpoint={e} reload={list.reload} />
              ))}
            </div>
          )
        }
      </Show>
      <h2>New endpoint</h2>
      {secret && <Secret label="Signing secret of the new endpoint." value={secret} />}
      <form
        class="panel grid"
        aria-label="New webhook endpoint"
        onSubmit={(e) => {
          e.preventDefault();
          const form = e.target as HTMLFormElement;
          const f = new FormData(form);
          const events = String(f.get('events') || '*')
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
          create
            .run(async () => {
              const doc = await api('/webhook-endpoints', { method: 'POST', body: { data: { type: 'webhook-endpoints', attributes: { url: f.get('url'), events } } } });
              setSecret(one(doc).attributes.secret);
              form.reset();
            })
            .then((ok) => ok && list.reload());
        }}
      >
        <Field label="URL">
          <input name="url" type="url" required placeholder="https://example.com/hooks/shipgate" />
        </Field>
        <Field label="Events" hint="Comma-separated names, or * for all">
          <input name="events" defaultValue="*" />
        </Field>
        <div class="field">
          <button class="primary" disabled={create.busy}>
            Add endpoint
          </button>
        </div>
      </form>
      <ErrorBox error={create.error} />
    </>
  );
}
