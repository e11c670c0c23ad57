// A product's adoption as charts: versions in use (bars), the share of installs on the latest
// release day by day (the API's adoption series), downloads and upgrades per day (uPlot). Loaded
// on demand, so the console's first page does not carry the chart library. Each chart has a
// text alternative: a label with its values, and a table of the days for the series.
import 'uplot/dist/uPlot.min.css';
import uPlot from 'uplot';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { one } from '../api';
import { Empty, Field, Link, Show, useLoad } from '../ui';
import { api, q } from './session';

interface VersionsInUse {
  data: { version: string; installs: number; share: number }[];
  meta: { latest: string | null; onLatestShare: number; installs?: number; checks: number; days?: number };
}

interface AdoptionSeries {
  data: { day: string; latest: string | null; installs: number; onLatest: number; share: number | null }[];
  meta: { days: number };
}

interface DownloadsByDay {
  data: { day: string; version: string; downloads: number; upgrades: number }[];
  meta: { downloads: number; upgrades: number };
}

const epochSeconds = (day: string) => Date.parse(`${day}T00:00:00Z`) / 1000;
const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 && x > 0 ? 1 : 0)}%`;

function Plot({ options, data, label }: { options: Omit<uPlot.Options, 'width' | 'height'>; data: uPlot.AlignedData; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current!;
    const width = () => Math.max(280, Math.min(el.clientWidth || 600, 900));
    const plot = new uPlot({ ...options, width: width(), height: 240 } as uPlot.Options, data, el);
    const resize = () => plot.setSize({ width: width(), height: 240 });
    addEventListener('resize', resize);
    return () => {
      removeEventListener('resize', resize);
      plot.destroy();
    };
  }, [data]);
  return <div ref={box} class="chart" role="img" aria-label={label} />;
}

function VersionsChart({ answer }: { answer: VersionsInUse }) {
  const max = Math.max(1, ...answer.data.map((d) => d.installs));
  if (!answer.data.length) return <Empty>No update checks in this window yet.</Empty>;
  return (
    <figure class="chart" id="versions-chart">
      <div class="bars" role="img" aria-label={`Installs by version: ${answer.data.map((d) => `${d.version} ${d.installs}`).join(', ')}`}>
        {answer.data.map((d) => (
          <>
            <span>{d.version}</span>
            <span class="bar" style={{ width: `${(d.installs / max) * 100}%` }} data-version={d.version} />
            <span>
              {d.installs} ({pct(d.share)})
            </span>
          </>
        ))}
      </div>
      <figcaption class="muted">
        {answer.meta.checks} update checks; latest {answer.meta.latest ?? '—'}, on it: {pct(answer.meta.onLatestShare)}
      </figcaption>
    </figure>
  );
}

/** Share on latest per day: a gap on a day without checks (no share to show), the latest release of each day in the table. */
function AdoptionChart({ answer }: { answer: AdoptionSeries }) {
  const checked = answer.data.filter((d) => d.installs > 0);
  const data = useMemo<uPlot.AlignedData>(() => [answer.data.map((d) => epochSeconds(d.day)), answer.data.map((d) => (d.share === null ? null : d.share * 100))], [answer]);
  if (!checked.length) return <Empty>No update checks in this window yet: the series fills as installs check for updates.</Empty>;
  return (
    <figure class="chart" id="adoption-chart">
      <Plot
        label={`Share on the latest release by day: ${checked.map((d) => `${d.day} ${pct(d.share!)} of ${d.installs} on ${d.latest ?? 'none'}`).join('; ')}`}
        data={data}
        options={{
          scales: { y: { range: [0, 100] } },
          axes: [{}, { label: '% on latest' }],
          series: [{}, { label: 'on latest %', stroke: '#0a58ca', width: 2, spanGaps: false, points: { show: true }, value: (_u, v) => (v === null ? '—' : `${v.toFixed(1)}%`) }],
        }}
      />
      <figcaption class="muted">
        {checked.length} of {answer.data.length} days with update checks; latest today: {answer.data[answer.data.length - 1]?.latest ?? '—'}
      </figcaption>
      <details>
        <summary>The days as a table</summary>
        <div class="table-wrap">
          <table id="adoption-table">
            <caption class="visually-hidden">Installs that checked each day, the latest release then and the share on it</caption>
            <thead>
              <tr>
                <th>Day</th>
                <th>Latest</th>
                <th class="num">Installs</th>
                <th class="num">On latest</th>
                <th class="num">Share</th>
              </tr>
            </thead>
            <tbody>
              {checked.map((d) => (
                <tr key={d.day} data-day={d.day}>
                  <td>{d.day}</td>
                  <td>{d.latest ?? '—'}</td>
                  <td class="num">{d.installs}</td>
                  <td class="num">{d.onLatest}</td>
                  <td class="num">{pct(d.share!)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}

export function Analytics({ product }: { product: string }) {
  const [days, setDays] = useState(30);
  const [channel, setChannel] = useState('');
  const name = useLoad(() => api(`/products/${product}`).then((d) => one(d).attributes.name as string), [product]);
  const versions = useLoad(() => api<VersionsInUse>(`/products/${product}/analytics/versions${q({ days, channel })}`), [product, days, channel]);
  const adoption = useLoad(() => api<AdoptionSeries>(`/products/${product}/analytics/adoption${q({ days, channel })}`), [product, days, channel]);
  const downloads = useLoad(() => api<DownloadsByDay>(`/products/${product}/analytics/downloads${q({ days })}`), [product, days]);
  return (
    <>
      <p>
        <Link href={`/admin/products/${product}`}>{name.data ?? 'Product'}</Link> /
      </p>
      <h1>Analytics</h1>
      <div class="row panel">
        <Field label="Window">
          <select value={String(days)} onChange={(e) => setDays(Number((e.target as HTMLSelectElement).value))}>
            {[7, 30, 90, 365].map((d) => (
              <option value={d}>Last {d} days</option>
            ))}
          </select>
        </Field>
        <Field label="Channel">
          <select value={channel} onChange={(e) => setChannel((e.target as HTMLSelectElement).value)}>
            <option value="">stable</option>
            {['rc', 'beta', 'alpha', 'dev'].map((c) => (
              <option value={c}>{c}</option>
            ))}
          </select>
        </Field>
      </div>
      <h2>Versions in use</h2>
      <Show loaded={versions}>{(a) => <VersionsChart answer={a} />}</Show>
      <h2>Share on the latest release, day by day</h2>
      <p class="muted">Of the installs that checked for updates on each day, the share running the release that was the latest one that day.</p>
      <Show loaded={adoption}>{(a) => <AdoptionChart answer={a} />}</Show>
      <h2>Downloads per day</h2>
      <Show loaded={downloads}>
        {(a) => {
          const byDay = new Map<string, { downloads: number; upgrades: number }>();
          for (const row of a.data) {
            const t = byDay.get(row.day) ?? { downloads: 0, upgrades: 0 };
            t.downloads += row.downloads;
            t.upgrades += row.upgrades;
            byDay.set(row.day, t);
          }
          if (!byDay.size) return <Empty>No downloads in this window yet.</Empty>;
          // every day of the window, the quiet ones at zero
          const today = Date.parse(new Date().toISOString().slice(0, 10));
          const daysSorted = Array.from({ length: days }, (_, i) => new Date(today - (days - 1 - i) * 86_400_000).toISOString().slice(0, 10));
          for (const d of daysSorted) if (!byDay.has(d)) byDay.set(d, { downloads: 0, upgrades: 0 });
          const xs = daysSorted.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
          return (
            <>
              <Plot
                label={`Downloads per day: ${daysSorted
                  .filter((d) => byDay.get(d)!.downloads || byDay.get(d)!.upgrades)
                  .map((d) => `${d} ${byDay.get(d)!.downloads} downloads, ${byDay.get(d)!.upgrades} upgrades`)
                  .join('; ')}`}
                data={[xs, daysSorted.map((d) => byDay.get(d)!.downloads), daysSorted.map((d) => byDay.get(d)!.upgrades)]}
                options={{
                  series: [{}, { label: 'downloads', stroke: '#0a58ca', width: 2, points: { show: true } }, { label: 'upgrades', stroke: '#b42318', width: 2, points: { show: true } }],
                }}
              />
              <p class="muted">
                {a.meta.downloads} downloads, {a.meta.upgrades} upgrades in the window.
              </p>
            </>
          );
        }}
      </Show>
    </>
  );
}
