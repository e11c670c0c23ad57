// The account's event log: filter by event names, cursor pages.
import { useState } from 'preact/hooks';
import { many, relative, when } from '../api';
import type { Doc, Resource } from '../api';
import { Empty, Field, Show, useLoad } from '../ui';
import { api, follow, q } from './session';

export function Events() {
  const [type, setType] = useState('');
  const [pages, setPages] = useState<string[]>([]);
  const link = pages[pages.length - 1];
  const list = useLoad(() => (link ? follow<Doc<Resource[]>>(link) : api<Doc<Resource[]>>(`/events${q({ type, 'page[size]': 50 })}`)), [type, link]);
  return (
    <>
      <h1>Event log</h1>
      <form
        class="row panel"
        aria-label="Filter events"
        onSubmit={(e) => {
          e.preventDefault();
          setPages([]);
          setType(String(new FormData(e.target as HTMLFormElement).get('type')).trim());
        }}
      >
        <Field label="Event names" hint="Comma-separated, e.g. release.published,release.yanked">
          <input name="type" defaultValue={type} />
        </Field>
        <button>Filter</button>
      </form>
      <Show loaded={list}>
        {(doc) =>
          many(doc).length === 0 ? (
            <Empty>No events.</Empty>
          ) : (
            <>
              <div class="table-wrap">
                <table id="events">
                  <caption class="visually-hidden">Events, newest first</caption>
                  <thead>
                    <tr>
                      <th>Event</th>
                      <th>Resource</th>
                      <th>When</th>
                    </tr>
                  </thead>
                  <tbody>
                    {many(doc).map((ev) => {
                      const res = ev.relationships?.resource?.data as { type: string; id: string } | undefined;
                      return (
                        <tr key={ev.id}>
                          <td>
                            <code>{ev.attributes.event}</code>
                          </td>
                          <td>{res ? `${res.type} ${res.id.slice(0, 8)}` : '—'}</td>
                          <td>{when(ev.attributes.created)}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
              <nav class="row" aria-label="Event pages">
                <button type="button" disabled={!pages.length} onClick={() => setPages(pages.slice(0, -1))}>
                  Newer
                </button>
                <button type="button" disabled={!doc.links?.next} onClick={() => setPages([...pages, relative(doc.links!.next!)])}>
                  Older
                </button>
              </nav>
            </>
          )
        }
      </Show>
    </>
  );
}
