import { spawn } from 'node:child_process';
import * as path from 'node:path';

/**
 * Runs one of the client scripts of test/support/electron/ in a child Node process and returns the
 * JSON it reports. A child process because `NODE_EXTRA_CA_CERTS` is read only when Node starts: the
 * real clients then trust the test certificate the way they would trust a public one, through
 * Node's own TLS stack and global agent, with nothing patched in them.
 */

export const RESULT_MARKER = '@@shipgate-client-result@@ ';

export interface ChildRun<T> {
  /** What the script reported (its last result line). */
  result: T;
  stdout: string;
  stderr: string;
  exitCode: number | null;
}

const ELECTRON_DIR = path.join(process.cwd(), 'test', 'support', 'electron');

/** Variables a child must not inherit: Jest's ESM flag, and proxies (the clients would send localhost through them). */
const DROPPED = ['NODE_OPTIONS', 'http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY', 'DEBUG'];

export function runClientScript<T>(
  script: 'publish.cjs' | 'update.cjs',
  input: unknown,
  options: { caFile: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<ChildRun<T>> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of DROPPED) delete env[name];
  Object.assign(env, { NODE_EXTRA_CA_CERTS: options.caFile }, options.env ?? {});
  const child = spawn(process.execPath, [path.join(ELECTRON_DIR, script)], { env, cwd: process.cwd(), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  child.stdin.end(JSON.stringify(input));
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not finish within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      const line = stdout
        .split('\n')
        .reverse()
        .find((l) => l.startsWith(RESULT_MARKER));
      if (!line) {
        reject(new Error(`${script} reported no result (exit ${exitCode})\nstdout:\n${stdout}\nstderr:\n${stderr}`));
        return;
      }
      resolve({ result: JSON.parse(line.slice(RESULT_MARKER.length)) as T, stdout, stderr, exitCode });
    });
  });
}
