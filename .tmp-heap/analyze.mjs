import fs from 'node:fs';
const snap = JSON.parse(fs.readFileSync('/tmp/heap/snap.heapsnapshot', 'utf8'));
const f = snap.snapshot.meta.node_fields; const types = snap.snapshot.meta.node_types[0];
const n = f.length; const nodes = snap.nodes; const strings = snap.strings;
const it = f.indexOf('type'), iname = f.indexOf('name'), isz = f.indexOf('self_size');
const agg = new Map();
for (let i = 0; i < nodes.length; i += n) {
  const t = types[nodes[i+it]]; let name = strings[nodes[i+iname]];
  if (t === 'string' || t === 'concatenated string' || t === 'sliced string') name = `(string len ${Math.min(200, Math.round(name.length/20)*20)})`;
  const key = `${t}:${name}`.slice(0, 80);
  const a = agg.get(key) ?? { count: 0, size: 0 }; a.count++; a.size += nodes[i+isz]; agg.set(key, a);
}
const top = [...agg.entries()].sort((a,b)=>b[1].size-a[1].size).slice(0, 25);
for (const [k, v] of top) console.log(`${(v.size/1024/1024).toFixed(1).padStart(6)} MiB ${String(v.count).padStart(8)}  ${k}`);
