import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { freeLoopbackPort } from '../../src/database/embedded-postgres';
import { blockName, docBlocks, runShell, startsServerOtherwise, withServerStarts } from '../support/shell-docs';

/**
 * Every shell block of README.md and docs/*.md runs, in order, in one bash per page, against a
 * fresh server (a database and DATA_DIR of its own), as a reader would paste them. A block that
 * cannot run here is marked `<!-- skip: reason -->` and listed with its reason; docs/walkthrough.md
 * is run by its own test (walkthrough.e2e-spec.ts), so only its markers are checked here.
 * Where the page starts the server (`npm start`), the test starts it; a page that never does gets
 * one before its first block.
 */

const PAGES = ['README.md', ...fs.readdirSync('docs').filter((f) => f.endsWith('.md')).sort().map((f) => path.join('docs', f))];
const OWN_TEST: Record<string, string> = { 'docs/walkthrough.md': 'test/e2e/walkthrough.e2e-spec.ts' };
const PAGE_TIMEOUT_MS = 180_000;

/** What a reader should see, per page (besides every block exiting 0). */
const EXPECTED: Record<string, (out: string) => void> = {
  'README.md': (out) => expect(out).toContain('Hello from Shipgate: demo-app 1.0.0'),
  'docs/cli.md': (out) => {
    expect(out).toMatch(/^VERSION\s+CHANNEL\s+PLATFORM/m);
    expect(out).toContain('Update available: 1.3.0 -> 1.4.0');
    expect(out).toContain('exit code 4');
    // publish with several files: a release of three artifacts, twice (the second run uploads nothing)
    expect(out.match(/^ {2}artifacts 3$/gm)).toHaveLength(2);
    expect(out).toMatch(/^ {4}Acme-2\.0\.0-arm64\.dmg\s+darwin\/arm64\s+20 bytes\s+UPLOADED/m);
  },
  'docs/webhooks.md': (out) => {
    expect(out).toMatch(/^delivered: release\.yanked/m);
    expect(out).toContain('release.yanked: DELIVERED after 2 attempts');
    expect(out).toContain('circuit: closed, consecutive failures: 0, next probe: null');
  },
  'docs/integrations.md': (out) => expect(out).toContain('"valid":true'),
  'docs/packages.md': (out) => {
    expect(out).toContain('package acme-sdk (pypi)');
    expect(out).toMatch(/^ {2}artifacts 1$/m);
    expect(out).toContain('acme-sdk 1.2.0 installed');
    expect(out.match(/^Acme tools 1\.1\.0$/gm)).toHaveLength(2);
  },
  'docs/updaters.md': (out) => {
    expect(out).toContain('rollout: 10 %');
    expect(out).toContain('rollout: 100 %, critical: true');
    expect(out).toMatch(/this license, from 1\.9\.0: HTTP 303\n/);
    expect(out).toMatch(/^why: 2\.0\.0 offered$/m);
  },
};

describe('every shell block of README.md and docs/*.md', () => {
  const adminUrl = (() => {
    const u = new URL(process.env.DATABASE_URL!);
    u.pathname = '/postgres';
    return u.toString();
  })();
  const skipped: string[] = [];

  afterAll(() => {
    // the blocks left out, by name, with the reason (so that nobody mistakes them for tested)
    if (skipped.length) console.log(`shell blocks not run by this test:\n${skipped.map((s) => `  - ${s}`).join('\n')}`);
  });

  it('are all accounted for: run here, by their page\'s own test, or marked skip with a reason', () => {
    const problems: string[] = [];
    for (const page of PAGES) {
      for (const block of docBlocks(page)) {
        if (block.marker?.kind === 'skip') {
          skipped.push(`${blockName(block)}: ${block.marker.reason}`);
          continue;
        }
        if (OWN_TEST[page]) {
          const serverStart = withServerStarts(block.code).starts > 0 && withServerStarts(block.code).code.trim().startsWith('__start_server');
          if (block.marker?.kind !== 'walkthrough' && !serverStart) problems.push(`${blockName(block)}: neither marked walkthrough nor skip`);
          continue;
        }
        if (block.marker?.kind === 'walkthrough') problems.push(`${blockName(block)}: marked walkthrough outside docs/walkthrough.md`);
        if (startsServerOtherwise(block.code)) problems.push(`${blockName(block)}: starts a server in a way the test cannot take over; mark it skip with a reason`);
      }
    }
    expect(problems).toEqual([]);
    expect(PAGES).toEqual(expect.arrayContaining(['README.md', 'docs/cli.md', 'docs/operations.md', 'docs/webhooks.md']));
  });

  for (const page of PAGES.filter((p) => !OWN_TEST[p])) {
    const blocks = docBlocks(page).filter((b) => b.marker?.kind !== 'skip');
    if (!blocks.length) continue;

    it(`${page}: its ${blocks.length} block(s) run in order against a fresh server`, async () => {
      const database = `shipgate_docs_${path.basename(page, '.md').toLowerCase().replace(/[^a-z0-9]/g, '_')}_${Date.now()}_${process.pid}`;
      const admin = new Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${database}`);
      const dbUrl = new URL(process.env.DATABASE_URL!);
      dbUrl.pathname = `/${database}`;
      const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-docs-'));
      const port = await freeLoopbackPort();
      const starts = blocks.some((b) => withServerStarts(b.code).starts > 0);
      let run: Awaited<ReturnType<typeof runShell>> | undefined;
      try {
        run = await runShell(
          blocks.map((b) => `# ${blockName(b)}\n${b.code}`),
          {
            cwd: workDir,
            // the server's settings, as the reader's shell would have them; the rest is the page's
            env: { PORT: String(port), DATABASE_URL: dbUrl.toString(), DATA_DIR: path.join(workDir, '.data'), LOG_FORMAT: 'json', PASSWORD_HASH_COST: '4' },
            startFirst: starts ? undefined : '',
            timeoutMs: PAGE_TIMEOUT_MS,
          },
        );
        const transcript = `--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}\n--- server\n${run.serverLog()}`;
        expect({ code: run.code, timedOut: run.timedOut, transcript }).toEqual({ code: 0, timedOut: false, transcript });
        EXPECTED[page]?.(run.stdout);
        // no request made the server fail
        expect(run.serverLog()).not.toMatch(/ failed: |"level":"(error|fatal)"/);
      } finally {
        await run?.stop();
        await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        await admin.end();
        fs.rmSync(workDir, { recursive: true, force: true });
      }
    }, PAGE_TIMEOUT_MS + 30_000);
  }
});
