// The admin console and the customer portal (docs/console.md): two HTML entries sharing one
// source tree, built by the root `npm run build` into dist/console, which the server serves at
// /admin and /portal/:account with the hashed assets under /console/.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/console/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  // `npx vite -c web/vite.config.mjs`: a dev server with hot reload, the API proxied to a running Shipgate
  server: { proxy: { '/v1': process.env.SHIPGATE_URL ?? 'http://localhost:3000' } },
  build: {
    outDir: here('../dist/console'),
    // kept, not emptied: a server already running (or a test in another worker) may be serving the
    // current files while a build runs; asset names are content hashes, so a rebuild rewrites the same names
    emptyOutDir: false,
    target: 'es2022',
    // no inline <script> or data: module in the pages: the CSP allows scripts from this origin only
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
    rollupOptions: { input: { admin: here('admin.html'), portal: here('portal.html') } },
  },
});
