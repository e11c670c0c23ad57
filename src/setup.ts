import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Command, CommanderError, Option } from 'commander';
import pino from 'pino';
import { createApp } from './app.factory';
import { EXIT, ShipgateError, usageError } from './cli/client';
import { consoleOutput } from './cli/commands';
import { printSetup, setupAccount } from './cli/setup';
import type { SetupResult } from './cli/setup';
import { ConfigError, loadConfig } from './config/config';
import type { AppConfig } from './config/config';
import { EmbeddedStartError, startEmbeddedPostgres } from './database/embedded-postgres';
import type { EmbeddedDatabase } from './database/embedded-postgres';
import { createLogger, flushLogger } from './observability/logger';

/**
 * `npm run setup`: the first account, its admin and an admin token (and with --demo a product, a
 * license and a published release), printed as shell lines. With a server answering at
 * SHIPGATE_URL (default http://127.0.0.1:PORT) it asks that server, with its ROOT_TOKEN. With none,
 * it starts the application in this process on the server's own database (the embedded one under
 * DATA_DIR, or DATABASE_URL) with a one-off root token, does the same over loopback HTTP, and stops:
 * no ROOT_TOKEN is needed then.
 */

const output = consoleOutput;

const program = new Command('npm run setup --')
  .description('create an account, its first admin and an admin token (on the running server, or on its database when none runs)')
  .requiredOption('--account <slug>', 'the new account\'s slug, e.g. acme')
  .requiredOption('--email <email>', 'the admin\'s email')
  .addOption(new Option('--password <password>', 'the admin\'s password (default: generated and shown once)').env('SHIPGATE_PASSWORD'))
  .option('--account-name <name>', 'the account\'s name (default: its slug)')
  .option('--demo', 'also create a product (demo-app), a license and a published release 1.0.0')
  .addOption(new Option('--url <url>', 'a running server (default: http://127.0.0.1:PORT)').env('SHIPGATE_URL'))
  .addOption(new Option('--root-token <token>', 'the running server\'s ROOT_TOKEN (default: ROOT_TOKEN)').env('SHIPGATE_ROOT_TOKEN'))
  .exitOverride((error: CommanderError) => process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage));

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(`${url.replace(/\/+$/, '')}/health`, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

/** The application in this process, on loopback, until `run` is done. */
async function inProcess(config: AppConfig, run: (url: string, rootToken: string) => Promise<SetupResult>): Promise<SetupResult> {
  // warnings only, on stderr: stdout carries the shell lines
  const logger = createLogger({ level: 'warn', format: 'json' }, pino.destination({ dest: 2, sync: true }));
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    try {
      embedded = await startEmbeddedPostgres(config.dataDir, (m) => output.info(m));
    } catch (error) {
      throw new ShipgateError(error instanceof EmbeddedStartError ? error.message : `could not start the embedded PostgreSQL under DATA_DIR (${config.dataDir}): ${(error as Error).message}`);
    }
    databaseUrl = embedded.url;
  }
  try {
    const rootToken = randomBytes(32).toString('hex'); // lives as long as this process, never shown
    const app = await createApp({ ...config, databaseUrl, rootToken, events: { ...config.events, workers: 0 } }, { logger });
    try {
      await app.listen(0, '127.0.0.1');
      const { port } = app.getHttpServer().address() as { port: number };
      return await run(`http://127.0.0.1:${port}`, rootToken);
    } finally {
      await app.close();
    }
  } finally {
    await embedded?.stop();
    flushLogger(logger);
  }
}

async function main(): Promise<void> {
  program.parse(process.argv);
  const opts = program.opts<{ account: string; email: string; password?: string; accountName?: string; demo?: boolean; url?: string; rootToken?: string }>();
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) throw usageError(error.message);
    throw error;
  }
  const o = { account: opts.account, accountName: opts.accountName, email: opts.email, password: opts.password, demo: opts.demo };
  const url = opts.url || `http://127.0.0.1:${config.port}`;
  if (await answers(url)) {
    const rootToken = opts.rootToken || config.rootToken;
    if (!rootToken) {
      throw usageError(`a server answers at ${url}, and creating an account there needs its ROOT_TOKEN: set ROOT_TOKEN (or pass --root-token), or stop the server and run setup again (it then works on the server's database directly)`);
    }
    output.info(`setting up on the server at ${url}`);
    const result = await setupAccount(url, rootToken, o, output);
    printSetup(opts.url || config.publicUrl, o.account, result, output);
    return;
  }
  output.info(`no server answers at ${url}: setting up on its database (${config.databaseUrl ? 'DATABASE_URL' : `the embedded one under ${config.dataDir}`})`);
  const result = await inProcess(config, (local, rootToken) => setupAccount(local, rootToken, o, output));
  printSetup(config.publicUrl, o.account, result, output);
  output.info('start the server with `npm start`; the lines above work once it answers');
}

main().then(
  () => process.exit(EXIT.ok),
  (error: unknown) => {
    process.stderr.write(`setup: ${error instanceof ShipgateError ? error.message : ((error as Error)?.stack ?? String(error))}\n`);
    process.exit(error instanceof ShipgateError ? error.exitCode : EXIT.failed);
  },
);
