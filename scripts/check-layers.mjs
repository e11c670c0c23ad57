#!/usr/bin/env node
// The layer check (`npm run lint:layers`): one dependency-cruiser pass over src/ that
//  1. applies the rules of .dependency-cruiser.cjs (module cycles, which layer may import which);
//  2. collapses the modules to their folder (the first level under src/) and reports every
//     folder-level cycle with one concrete import per folder edge — dependency-cruiser's own
//     folder rules work on every directory depth, not on src/<folder>, and name no files;
//  3. fails on a src/ folder that is in no layer, since no rule would see its imports.
// Usage: node scripts/check-layers.mjs [--markdown] [paths...]
//   --markdown prints a report to stdout; paths (default src) narrow the cruise, e.g. src/cli
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { cruise, format } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

process.chdir(fileURLToPath(new URL('..', import.meta.url))); // paths below are the repository's
const CONFIG = '.dependency-cruiser.cjs';
const TOP_LEVEL = 'src/*.ts';
const markdown = process.argv.includes('--markdown');
const paths = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));

const layers = createRequire(import.meta.url)(`../${CONFIG}`).layers;
// Rank of each folder's layer, lowest first; the CLI stands beside the stack, not in it.
const layerOf = new Map();
Object.entries(layers).forEach(([layer, folders], rank) =>
  folders.forEach((folder) => layerOf.set(folder, { layer, rank: layer === 'cli' ? null : rank })),
);
// The app files (src/*.ts) sit on top of every layer.
const rankOf = (folder) => (folder === TOP_LEVEL ? Infinity : layerOf.get(folder)?.rank);

const options = await extractDepcruiseOptions(`./${CONFIG}`);
const tsConfig = extractTSConfig(options.tsConfig?.fileName ?? 'tsconfig.json');
const cruiseOptions = { ...options, outputType: 'json' };
const { output } = await cruise(paths.length ? paths : ['src'], cruiseOptions, {}, { tsConfig });
const result = JSON.parse(output);

/** src/releases/x.ts -> releases; src/main.ts -> src/*.ts; anything outside src/ -> null */
function folderOf(path) {
  const parts = path.split('/');
  if (parts[0] !== 'src') return null;
  return parts.length === 2 ? TOP_LEVEL : parts[1];
}

// folder -> folder -> the imports (file -> file) behind that edge
const graph = new Map();
for (const module of result.modules) {
  const from = folderOf(module.source);
  if (!from) continue;
  if (!graph.has(from)) graph.set(from, new Map());
  for (const dependency of module.dependencies) {
    const to = folderOf(dependency.resolved);
    if (!to || to === from) continue;
    const edges = graph.get(from);
    if (!edges.has(to)) edges.set(to, []);
    const typeOnly = dependency.dependencyTypes.includes('type-only');
    edges.get(to).push({ from: module.source, to: dependency.resolved, typeOnly });
  }
}

/** Tarjan's strongly connected components; those of two or more folders are the cycles. */
function cycles(nodes, successors) {
  let counter = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  const visit = (node) => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const next of successors(node)) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node), low.get(next)));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node), index.get(next)));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component = [];
    let member;
    do {
      member = stack.pop();
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1) found.push(component.sort());
  };
  for (const node of nodes) if (!index.has(node)) visit(node);
  return found.sort((a, b) => b.length - a.length);
}

const folders = [...graph.keys()].sort();
const folderCycles = cycles(folders, (folder) => [...(graph.get(folder)?.keys() ?? [])].sort());
const unplaced = folders.filter((folder) => folder !== TOP_LEVEL && !layerOf.has(folder));

/** How an import from one folder to another sits against the layers. */
function direction(from, to) {
  const [a, b] = [rankOf(from), rankOf(to)];
  if (a == null || b == null) return '';
  return b > a ? 'upward' : b === a ? 'same layer' : 'downward';
}

/** The folder edges inside one cycle, each with one of its imports (a value import if any). */
function cycleEdges(component) {
  const members = new Set(component);
  const rows = [];
  for (const from of component) {
    for (const [to, imports] of [...graph.get(from)].sort(([a], [b]) => a.localeCompare(b))) {
      if (!members.has(to)) continue;
      const example = imports.find((i) => !i.typeOnly) ?? imports[0];
      const typeOnly = imports.every((i) => i.typeOnly);
      rows.push({ from, to, count: imports.length, example, typeOnly, direction: direction(from, to) });
    }
  }
  return rows;
}

// The cycles that stay once every upward import is gone (those the layer rules already name):
// they lie inside one layer, and only this check sees them.
const flatCycles = cycles(folders, (folder) =>
  [...(graph.get(folder)?.keys() ?? [])].filter((to) => direction(folder, to) !== 'upward').sort(),
);

/**
 * A suggestion for one cycle inside a layer: an order of its folders (lowest first) and the folder
 * edges that point against it, chosen to go against as few imports as it can (the greedy heuristic
 * of Eades, Lin and Smyth for a small feedback arc set, weighted by import count, then improved by
 * moving one folder at a time).
 */
function suggestOrder(component) {
  const rows = cycleEdges(component).filter((row) => row.direction !== 'upward');
  const left = new Set(component);
  const weight = (node, outgoing) =>
    rows
      .filter((r) => left.has(r.from) && left.has(r.to) && (outgoing ? r.from : r.to) === node)
      .reduce((sum, r) => sum + r.count, 0);
  const low = [];
  const high = [];
  while (left.size) {
    let moved = true;
    while (moved) {
      moved = false;
      for (const node of [...left]) {
        if (weight(node, false) === 0) {
          // nothing left imports it: it can sit on top
          high.push(node);
          left.delete(node);
          moved = true;
        } else if (weight(node, true) === 0) {
          low.push(node);
          left.delete(node);
          moved = true;
        }
      }
    }
    if (!left.size) break;
    // otherwise the folder most imported and least importing goes low
    const balance = (node) => weight(node, false) - weight(node, true);
    const pick = [...left].sort((a, b) => balance(b) - balance(a))[0];
    low.push(pick);
    left.delete(pick);
  }
  const againstOf = (order) => {
    const position = new Map(order.map((folder, i) => [folder, i]));
    return rows.filter((row) => position.get(row.to) > position.get(row.from));
  };
  const cost = (order) => againstOf(order).reduce((sum, row) => sum + row.count, 0);
  // Then move single folders to wherever they cost fewer imports, while that helps.
  let order = [...low, ...high.reverse()];
  for (let improved = true; improved; ) {
    improved = false;
    for (const folder of component) {
      const rest = order.filter((f) => f !== folder);
      for (let i = 0; i <= rest.length; i++) {
        const candidate = [...rest.slice(0, i), folder, ...rest.slice(i)];
        if (cost(candidate) < cost(order)) [order, improved] = [candidate, true];
      }
    }
  }
  return { order, against: againstOf(order) };
}

const violations = result.summary.violations;
// violations grouped by rule, in the order of the config
const byRule = new Map(result.summary.ruleSetUsed.forbidden.map((rule) => [rule.name, []]));
for (const violation of violations) byRule.get(violation.rule.name)?.push(violation);
for (const [name, list] of byRule) if (!list.length) byRule.delete(name);
const failed = violations.length > 0 || folderCycles.length > 0 || unplaced.length > 0;
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
const summaryLine =
  `${plural(violations.length, 'rule violation')}, ${plural(folderCycles.length, 'folder cycle')}` +
  (folderCycles.length ? ` (${folderCycles.map((c) => `${c.length} folders`).join(', ')})` : '') +
  `, ${plural(flatCycles.length, 'cycle')} inside a layer, ${plural(unplaced.length, 'folder')} in no ` +
  `layer; ${result.summary.totalCruised} modules, ${result.summary.totalDependenciesCruised} imports`;

if (markdown) printMarkdown();
else await printText();
process.exit(failed ? 1 : 0);

function edgeLine(row) {
  const notes = [row.direction, row.typeOnly ? 'type-only' : ''].filter(Boolean).join(', ');
  return `${row.from} -> ${row.to} (${plural(row.count, 'import')}): ${row.example.from} -> ` +
    `${row.example.to}${notes ? `  [${notes}]` : ''}`;
}

async function printText() {
  if (violations.length) {
    process.stdout.write(`Layer rules (${CONFIG}):\n`);
    process.stdout.write((await format(result, { outputType: 'err' })).output);
    console.log('Why each broken rule exists:');
    for (const [name, list] of byRule) {
      const rule = result.summary.ruleSetUsed.forbidden.find((r) => r.name === name);
      console.log(`  ${name} (${list.length}): ${rule?.comment ?? ''}`);
    }
    console.log('');
  }
  folderCycles.forEach((component, n) => {
    const rows = cycleEdges(component);
    const upward = rows.filter((row) => row.direction === 'upward');
    const others = rows.filter((row) => row.direction !== 'upward' && row.direction !== 'downward');
    console.log(`Folder cycle ${n + 1} of ${folderCycles.length}: ${component.length} folders of src/ ` +
      `reach each other: ${component.join(', ')}`);
    console.log(`  ${plural(upward.length, 'folder edge')} against the layers (the rules above name ` +
      'each import; remove them first):');
    upward.forEach((row) => console.log(`    ${edgeLine(row)}`));
    console.log(`  ${plural(others.length, 'folder edge')} inside a layer or outside the layers:`);
    others.forEach((row) => console.log(`    ${edgeLine(row)}`));
    console.log(`  (${rows.length - upward.length - others.length} downward folder edges, which the ` +
      'layers allow, not listed)\n');
  });
  if (flatCycles.length) {
    console.log('Cycles left once the upward imports are gone (inside one layer; only this check ' +
      'sees them; break one edge of each loop):');
    flatCycles.forEach((component, n) => {
      console.log(`  ${n + 1}. ${component.join(', ')}`);
      cycleEdges(component)
        .filter((row) => row.direction !== 'upward')
        .forEach((row) => console.log(`     ${edgeLine(row)}`));
      const { order, against } = suggestOrder(component);
      const imports = against.reduce((sum, row) => sum + row.count, 0);
      console.log(`     A suggestion: the order ${order.join(' < ')} (lowest first) leaves ` +
        `${plural(against.length, 'folder edge')} (${plural(imports, 'import')}) to remove or turn around:`);
      against.forEach((row) => console.log(`       ${edgeLine(row)}`));
    });
    console.log('');
  }
  for (const folder of unplaced) {
    console.log(`src/${folder}/ is in no layer: add it to LAYERS in ${CONFIG} so its imports are checked`);
  }
  console.log(`${failed ? 'x' : '✔'} layers: ${summaryLine}`);
}

function printMarkdown() {
  const cell = (row) => `${row.example.from} -> ${row.example.to}`;
  const note = (row) => [row.direction, row.typeOnly ? 'type-only' : ''].filter(Boolean).join(', ');
  console.log('# Layer check report\n');
  console.log(`Generated by \`node scripts/check-layers.mjs --markdown\`: ${summaryLine}.\n`);
  console.log('## Rule violations by rule\n');
  if (!violations.length) console.log('None.\n');
  else console.log('| rule | violations |\n|---|---|');
  for (const [name, list] of byRule) console.log(`| ${name} | ${list.length} |`);
  for (const [name, list] of byRule) {
    const rule = result.summary.ruleSetUsed.forbidden.find((r) => r.name === name);
    console.log(`\n### ${name} (${list.length})\n\n${rule?.comment ?? ''}\n`);
    for (const v of list) {
      const path = v.cycle ? [v.from, ...v.cycle.map((c) => c.name)].join(' -> ') : `${v.from} -> ${v.to}`;
      console.log(`- ${path}`);
    }
  }
  console.log('\n## Folder cycles\n');
  if (!folderCycles.length) console.log('None.\n');
  folderCycles.forEach((component, n) => {
    console.log(`### Cycle ${n + 1}: ${component.length} folders\n\n${component.join(', ')}\n`);
    console.log('Every folder edge inside the cycle, with one of its imports. Upward edges break a ' +
      'layer rule too; downward edges are allowed and listed only for completeness.\n');
    console.log('| from | to | imports | one of them | note |\n|---|---|---|---|---|');
    const order = { upward: 0, 'same layer': 1, '': 2, downward: 3 };
    cycleEdges(component)
      .sort((a, b) => order[a.direction] - order[b.direction])
      .forEach((row) => console.log(`| ${row.from} | ${row.to} | ${row.count} | ${cell(row)} | ${note(row)} |`));
    console.log('');
  });
  console.log('## Cycles left once the upward imports are gone\n');
  console.log('Inside one layer, so no layer rule names them; break one edge of each loop.\n');
  if (!flatCycles.length) console.log('None.\n');
  flatCycles.forEach((component, n) => {
    console.log(`### ${n + 1}. ${component.join(', ')}\n`);
    console.log('| from | to | imports | one of them | note |\n|---|---|---|---|---|');
    cycleEdges(component)
      .filter((row) => row.direction !== 'upward')
      .forEach((row) => console.log(`| ${row.from} | ${row.to} | ${row.count} | ${cell(row)} | ${note(row)} |`));
    const { order, against } = suggestOrder(component);
    const imports = against.reduce((sum, row) => sum + row.count, 0);
    console.log(`\nA suggestion: the order ${order.join(' < ')} (lowest first) leaves ` +
      `${plural(against.length, 'folder edge')} (${plural(imports, 'import')}) to remove or turn around:\n`);
    against.forEach((row) => console.log(`- ${edgeLine(row)}`));
    console.log('');
  });
  if (unplaced.length) console.log(`## Folders in no layer\n\n${unplaced.join(', ')}\n`);
}
