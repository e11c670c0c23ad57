import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The shell blocks of the documentation, and a bash that runs them as a reader pastes them: in
 * order, in one shell, against a server of its own. Used by test/e2e/docs.e2e-spec.ts (every page)
 * and test/e2e/backup.e2e-spec.ts (the backup and restore steps).
 *
 * A block is a fenced ```sh, ```bash or ```shell block. The line before it may be a marker:
 * `<!-- skip: <reason> -->` (not run; the reason says why, and the test prints it) or
 * `<!-- walkthrough -->` (docs/walkthrough.md's own test runs it). A line that starts the server
 * (`[VAR=value ...] npm start [...]`) is not run as written: the test starts the built server there
 * (`node dist/src/main.js`, as `npm start` does after its build) with those variables, waits until
 * it is ready and leaves it running in the background.
 */

export const CHECKOUT = path.resolve('.');
const SHELLS = new Set(['sh', 'bash', 'shell']);

export interface DocBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
  /** `skip` with its reason, `walkthrough`, or none. */
  marker?: { kind: 'skip'; reason: string } | { kind: 'walkthrough' };
}

export function docBlocks(file: string): DocBlock[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    if (SHELLS.has(open[1])) {
      let before = i - 1;
      while (before >= 0 && lines[before].trim() === '') before--;
      const comment = before >= 0 ? /^<!--\s*(.*?)\s*-->\s*$/.exec(lines[before]) : null;
      let marker: DocBlock['marker'];
      if (comment) {
        const skip = /^skip:\s*(.+)$/.exec(comment[1]);
        if (skip) marker = { kind: 'skip', reason: skip[1] };
        else if (comment[1] === 'walkthrough') marker = { kind: 'walkthrough' };
      }
      blocks.push({ file: path.relative(CHECKOUT, file), line: i + 1, code: lines.slice(i + 1, end).join('\n'), marker });
    }
    i = end;
  }
  return blocks;
}

/** A block's name in reports: where it is and its first command. */
export const blockName = (b: DocBlock) => `${b.file}:${b.line} \`${(b.code.split('\n').find((l) => l.trim() && !l.trim().startsWith('#')) ?? '').trim().slice(0, 60)}\``;

/** `[VAR=value ...] npm start [...]` on a line of its own: the variables, or null for another line. */
const SERVER_START = /^\s*((?:[A-Z_][A-Z0-9_]*=\S*\s+)*)npm start\b(?:\s[^;|]*)?$/;

/** The block with its server starts replaced by the test's (`__start_server VAR=value ...`). */
export function withServerStarts(code: string): { code: string; starts: number } {
  let starts = 0;
  const out = code.split('\n').map((line) => {
    const m = line.includes('&&') ? null : SERVER_START.exec(line);
    if (!m) return line;
    starts++;
    return `__start_server ${m[1].trim()}`.trimEnd();
  });
  return { code: out.join('\n'), starts };
}

/** Whether a block would start a server in a way the harness cannot take over (it must be marked skip). */
export const startsServerOtherwise = (code: string) => /\bnpm start\b|\bdocker\b|dist\/src\/main\.js/.test(withServerStarts(code).code);

const PRELUDE = `
# npm runs scripts in the checkout (as in a reader's clone), and nothing that would change it;
# the shipgate command is on PATH (as after npm link)
npm() {
  case "\${1:-}" in
    run|run-script|exec) command npm --prefix "$SHIPGATE_CHECKOUT" "$@" ;;
    *) echo "docs test: \`npm $*\` would change or rebuild this checkout: mark its block <!-- skip: reason -->" >&2; return 97 ;;
  esac
}
__start_server() {
  env "$@" node "$SHIPGATE_CHECKOUT/dist/src/main.js" >> "$SHIPGATE_SERVER_LOG" 2>&1 &
  echo $! >> "$SHIPGATE_SERVER_PIDS"
  for _ in $(seq 1 600); do
    if curl -sf -o /dev/null "http://127.0.0.1:\${PORT:-3000}/health/ready"; then return 0; fi
    sleep 0.1
  done
  echo "the server did not become ready (see $SHIPGATE_SERVER_LOG)" >&2
  return 1
}
`;

export interface ShellRun {
  code: number | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** What the servers the script started wrote. */
  serverLog: () => string;
  /** Stops the servers (SIGTERM, then waits) and whatever else the script left running. */
  stop: () => Promise<void>;
}

function exited(pid: number): Promise<void> {
  return new Promise((resolve) => {
    const poll = () => {
      try {
        process.kill(pid, 0);
        setTimeout(poll, 50);
      } catch {
        resolve();
      }
    };
    poll();
  });
}

/**
 * Runs `blocks` in order in one `bash -euo pipefail` in `cwd`, with `env` (plus PATH, HOME, LANG).
 * With `startFirst`, the server starts before the first block (a page that never starts one
 * itself). The servers stay up after the script: call `stop()`.
 */
export function runShell(blocks: string[], options: { cwd: string; env: Record<string, string>; startFirst?: string; timeoutMs: number }): Promise<ShellRun> {
  const serverLog = path.join(options.cwd, '.server.log');
  const pids = path.join(options.cwd, '.server.pids');
  const bin = fs.mkdtempSync(path.join(options.cwd, '.bin-'));
  fs.writeFileSync(path.join(bin, 'shipgate'), `#!/bin/sh\nexec node "${CHECKOUT}/dist/src/cli/main.js" "$@"\n`, { mode: 0o755 });
  const script = [PRELUDE, ...(options.startFirst !== undefined ? [`__start_server ${options.startFirst}`] : []), ...blocks.map((b) => withServerStarts(b).code)].join('\n\n') + '\n';
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: options.cwd,
      env: {
        PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
        HOME: options.cwd,
        LANG: 'C.UTF-8',
        SHIPGATE_CHECKOUT: CHECKOUT,
        SHIPGATE_SERVER_LOG: serverLog,
        SHIPGATE_SERVER_PIDS: pids,
        npm_config_update_notifier: 'false',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: whatever it leaves running is stopped with it
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }, options.timeoutMs);
    child.once('error', reject);
    // 'exit', not 'close': a helper the page left running in the background (a webhook receiver)
    // keeps bash's stderr open; what bash wrote has arrived a moment after it exits
    child.once('exit', (code) => setTimeout(() => {
      clearTimeout(timer);
      resolve({
        code,
        timedOut,
        stdout,
        stderr,
        serverLog: () => (fs.existsSync(serverLog) ? fs.readFileSync(serverLog, 'utf8') : ''),
        stop: async () => {
          const started = fs.existsSync(pids) ? fs.readFileSync(pids, 'utf8').split('\n').filter(Boolean).map(Number) : [];
          for (const pid of started) {
            try {
              process.kill(pid, 'SIGTERM');
            } catch {
              // already stopped
            }
          }
          await Promise.all(started.map(exited));
          try {
            process.kill(-child.pid!, 'SIGKILL'); // background helpers the page started (a webhook receiver)
          } catch {
            // none left
          }
        },
      });
    }, 200));
  });
}
