/**
 * The layers of src/ (docs/architecture.md, "Layers"). Each layer may import only the layers
 * below it; a folder is the first level under src/. `npm run lint:layers` runs these rules and,
 * in scripts/check-layers.mjs, the folder-level cycle check that dependency-cruiser lacks.
 * Type-only imports count (tsPreCompilationDeps): an `import type` cycle is still a knot.
 */

// Folders per layer, lowest first. `npm test` runs the check first (pretest).
const LAYERS = {
  infrastructure: ['config', 'database', 'jsonapi', 'common', 'openapi', 'queue', 'storage', 'types', 'console'],
  access: ['access'],
  domain: [
    'accounts', 'users', 'tokens', 'products', 'packages', 'entitlements', 'licenses', 'releases', 'artifacts',
    'constraints', 'counters', 'analytics', 'events', 'webhooks', 'ratelimit', 'health',
  ],
  catalogue: ['catalogue'],
  // observability/ watches every layer below: /metrics reads the counters' totals, the catalogue's
  // hits, the uploads, the webhook outcomes and the pool, and its route uses access/'s decorators.
  // Only the app files import it (the logger, the request observer, the registry), so it sits
  // with the use cases rather than on the ground floor.
  useCases: ['upgrades', 'feeds', 'engines', 'v3', 'auth', 'observability'],
  fastpath: ['fastpath'],
  cli: ['cli'],
};

/** A path regex for the given folders of src/, e.g. ^src/(config|database)/ */
const under = (...folders) => `^src/(${folders.flat(Infinity).join('|')})/`;

/**
 * "Files in `layer` import nothing in src/ outside `allowed`." Imports of fastpath are left to
 * the one rule about it (below), so that a wrong import is reported once, by its clearest rule.
 * Top-level files (src/*.ts) are outside every folder, so no layer may import them.
 */
const onlyImports = (name, comment, layer, allowed) => ({
  name,
  comment,
  severity: 'error',
  from: { path: under(layer) },
  to: { path: '^src/', pathNot: [under(allowed), under(LAYERS.fastpath)] },
});

const L = LAYERS;

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'Modules that import each other (also through type-only imports) cannot be understood, ' +
        'tested or moved one at a time. Move the shared piece down a layer.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    onlyImports(
      'infrastructure-imports-only-infrastructure',
      'config/, database/, jsonapi/, common/, openapi/, queue/, storage/ and types/ are ' +
        'the ground floor: every feature uses them, so they may not know any feature.',
      L.infrastructure,
      L.infrastructure,
    ),
    onlyImports(
      'access-imports-only-infrastructure',
      'access/ holds what every layer says about a caller (Bearer, LicenseFacts, ViewerFacts, ' +
        'the expiry rule, @Public): it sits below the domain so auth and releases can share it.',
      L.access,
      [L.infrastructure, L.access],
    ),
    onlyImports(
      'domain-imports-only-access-and-infrastructure',
      'Domain folders (accounts ... health) may use each other (acyclically, see the folder ' +
        'check) but not the catalogue, the use cases, the CLI or the app files above them.',
      L.domain,
      [L.infrastructure, L.access, L.domain],
    ),
    onlyImports(
      'catalogue-imports-only-domain-and-below',
      'catalogue/ caches what the domain computes; the use cases read it, never the reverse.',
      L.catalogue,
      [L.infrastructure, L.access, L.domain, L.catalogue],
    ),
    onlyImports(
      'use-cases-import-only-catalogue-and-below',
      'upgrades/, feeds/, v3/, auth/ and observability/ combine the domain (and the catalogue); nothing below ' +
        'may depend on them, and they may not reach the fast path or the app files.',
      L.useCases,
      [L.infrastructure, L.access, L.domain, L.catalogue, L.useCases],
    ),
    {
      name: 'fastpath-imports-only-layers-below',
      comment: 'fastpath/ may use every layer, but not the app files (src/*.ts) nor the CLI.',
      severity: 'error',
      from: { path: under(L.fastpath) },
      to: {
        path: '^src/',
        pathNot: under(L.infrastructure, L.access, L.domain, L.catalogue, L.useCases, L.fastpath),
      },
    },
    {
      name: 'only-app-files-import-fastpath',
      comment:
        'The fast path answers hot routes from memory on top of everything else; only the app ' +
        'files (src/main.ts, app.module.ts, app.factory.ts, worker*.ts, process.ts) wire it in. ' +
        'A domain or use-case module that needs it has its dependency upside down.',
      severity: 'error',
      from: { path: '^src/', pathNot: [under(L.fastpath), '^src/[^/]+\\.ts$'] },
      to: { path: under(L.fastpath) },
    },
    onlyImports(
      'cli-imports-only-infrastructure',
      'The shipgate command talks to the API over HTTP like any client; it ships without the ' +
        'server, so it may use only infrastructure helpers (today it imports nothing outside cli/).',
      L.cli,
      [L.infrastructure, L.cli],
    ),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.spec\\.ts$' },
    // `import type` and type-only re-exports are dependencies too.
    tsPreCompilationDeps: true,
    // Resolve as tsc does (dependency-cruiser maps `./x.js` specifiers to `./x.ts` itself).
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};

// For scripts/check-layers.mjs (folder cycles, unplaced folders). Not enumerable, so
// dependency-cruiser's own schema check of this file never sees it.
Object.defineProperty(module.exports, 'layers', { value: LAYERS });
