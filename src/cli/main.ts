#!/usr/bin/env node
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EXIT, isUuid, ShipgateClient, ShipgateError, usageError } from './client';
import type { Resource } from './client';
import { consoleOutput, describeRelease, publish, releaseTable, resolveProduct, resolveRelease } from './commands';
import { DEFAULT_CONCURRENCY, publishArtifacts } from './publish-artifacts';
import { printSetup, setupAccount } from './setup';

/**
 * `shipgate`: publish releases to a Shipgate server and manage them from CI or a terminal.
 * Configuration comes from flags or SHIPGATE_URL, SHIPGATE_ACCOUNT, SHIPGATE_TOKEN. A failure
 * prints the server's error (status, code, detail) on stderr and exits with a code that says
 * what kind of failure it was (EXIT, docs/cli.md).
 */

interface Globals {
  url?: string;
  account?: string;
  token?: string;
}

const output = consoleOutput;
const CHANNELS = ['stable', 'rc', 'beta', 'alpha', 'dev'];
const STATUSES = ['NOT_PUBLISHED', 'PUBLISHED', 'YANKED'];
const DISTRIBUTION_STRATEGIES = ['LICENSED', 'OPEN', 'CLOSED'];
const EXPIRATION_STRATEGIES = ['RESTRICT_ACCESS', 'REVOKE_ACCESS', 'ALLOW_ACCESS'];

/** This package's version (package.json next to dist/). */
function version(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** An option taking one of `values`, in any case (`--status published`, `--channel BETA`). */
function enumOption(flags: string, description: string, values: readonly string[]): Option {
  return new Option(flags, `${description} (${values.join(', ')}; any case)`).argParser((value: string) => {
    const found = values.find((v) => v.toLowerCase() === value.toLowerCase());
    if (!found) throw new InvalidArgumentError(`must be one of ${values.join(', ')}`);
    return found;
  });
}

/** `yankPrevious` -> `--yank-previous`. */
const flag = (option: string) => `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** An integer option within `min..max`; the error names the option, not the API's parameter. */
function integerIn(min: number, max: number) {
  return (value: string): string => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new InvalidArgumentError(`must be an integer from ${min} to ${max}`);
    return String(Number(value));
  };
}

function client(cmd: Command, options: { credential?: 'token' | 'none'; authorization?: string } = {}): ShipgateClient {
  const g = cmd.optsWithGlobals<Globals>();
  const url = g.url ?? process.env.SHIPGATE_URL;
  const account = g.account ?? process.env.SHIPGATE_ACCOUNT;
  const token = g.token ?? process.env.SHIPGATE_TOKEN;
  if (!url) throw usageError('no server: pass --url or set SHIPGATE_URL');
  if (!/^https?:\/\//.test(url)) throw usageError(`--url ${url} must start with http:// or https://`);
  if (!account) throw usageError('no account: pass --account or set SHIPGATE_ACCOUNT');
  let authorization = options.authorization;
  if (authorization === undefined && options.credential !== 'none') {
    if (!token) throw usageError('no token: pass --token or set SHIPGATE_TOKEN (an admin or product token)');
    authorization = `Bearer ${token}`;
  }
  return new ShipgateClient({ url, account, authorization });
}

/** Runs an action; a failure is one line on stderr and the exit code of its kind (EXIT). */
function run<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (error) {
      const message = error instanceof ShipgateError ? error.message : `unexpected error: ${(error as Error)?.stack ?? String(error)}`;
      process.stderr.write(`shipgate: ${message}\n`);
      process.exitCode = error instanceof ShipgateError ? error.exitCode : EXIT.failed;
    }
  };
}

const program = new Command('shipgate')
  .description('Publish and manage releases on a Shipgate server')
  .addOption(new Option('--url <url>', 'server base URL, e.g. https://releases.example.com').env('SHIPGATE_URL'))
  .addOption(new Option('--account <account>', 'account id or slug').env('SHIPGATE_ACCOUNT'))
  .addOption(new Option('--token <token>', 'an admin or product token').env('SHIPGATE_TOKEN'))
  .addHelpText('after', '\nshipgate --version (or -V, before any command) prints the version. Exit codes: 0 done, 1 refused by the server or a file cannot be read,\n2 usage, 3 authentication (401/403), 4 not found (404), 5 network, 6 server error (5xx); see docs/cli.md.')
  .showHelpAfterError()
  // a command line commander refuses (unknown option, missing or invalid value) is a usage error
  .exitOverride((error: CommanderError) => {
    process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage);
  });

program
  .command('publish')
  .description('publish files: one file makes a release of one file (API 1.0); several files (or --artifacts) make one release of many artifacts (API 1.1). Progress bars, idempotent re-runs')
  .argument('<files...>', 'the file(s) to publish; with several, each may name its own platform: dist/App.exe@windows/amd64')
  .option('--product <product>', 'product id or code (required unless --package names it)')
  .option('--package <key>', 'a package key or id (e.g. acme-sdk, @acme/cli): the release is a version of that package (implies --artifacts)')
  .requiredOption('--version <version>', 'semver version, e.g. 1.2.0 or 1.3.0-beta.1')
  .option('--platform <platform>', 'platform, e.g. linux/amd64, darwin/arm64, windows (required for one file)')
  .addOption(enumOption('--channel <channel>', 'release channel', CHANNELS).default('stable'))
  .option('--filename <name>', 'one file: its name on the server (default: the file\'s own name)')
  .option('--filetype <type>', 'one file: file type (default: from the file name, e.g. tar.gz)')
  .option('--name <name>', 'release name')
  .option('--description <text>', 'release notes')
  .option('--signature <signature>', 'one file: signature for the client to verify (e.g. a .sig file\'s content)')
  .option('--checksum <checksum>', 'one file: checksum for the client to verify (default: the server shows the sha256)')
  .option('--metadata <json>', 'release metadata JSON object')
  .option('--yank-previous', 'one file: yank the release this one replaces (same product, platform, channel, filetype)')
  .option('--artifacts', 'a release of many artifacts (API 1.1) even for one file')
  .option('--arch <arch>', 'artifacts: their arch, e.g. amd64, arm64 (or give --platform os/arch)')
  .option('--tag <tag>', 'artifacts: a tag naming the new release, e.g. latest')
  .option('--draft', 'artifacts: create the release as a DRAFT (default: PUBLISHED)')
  .addOption(new Option('--concurrency <n>', `artifacts: files uploaded at once (1..8, default ${DEFAULT_CONCURRENCY})`).argParser(integerIn(1, 8)))
  .option('--json', 'print the release as JSON')
  .action(
    run(async (files: string[], opts, cmd: Command) => {
      if (files.length > 1 || opts.artifacts || opts.package !== undefined) {
        const oneFileOnly = (['filename', 'filetype', 'signature', 'checksum', 'yankPrevious'] as const).filter((k) => opts[k] !== undefined);
        if (oneFileOnly.length) throw usageError(`${oneFileOnly.map(flag).join(', ')}: only for one file (a release of one file); a release of many artifacts names each file by its own name`);
        await publishArtifacts(client(cmd), files, opts, output);
        return;
      }
      const manyOnly = (['arch', 'tag', 'draft', 'concurrency'] as const).filter((k) => opts[k] !== undefined);
      if (manyOnly.length) throw usageError(`${manyOnly.map(flag).join(', ')}: only for a release of many artifacts (several files, or --artifacts)`);
      if (opts.platform === undefined) throw usageError("required option '--platform <platform>' not specified");
      if (opts.product === undefined) throw usageError("required option '--product <product>' not specified");
      await publish(client(cmd), files[0], opts, output);
    }),
  );

for (const [name, action, description] of [
  ['yank', 'yank', 'hide a release from customers (repeating it is harmless)'],
  ['publish-release', 'publish', 'publish a yanked or unpublished release again (its file must be uploaded)'],
] as const) {
  program
    .command(name)
    .description(description)
    .argument('<release>', 'release id, filename or version')
    .option('--product <product>', 'product id or code (to find a release by filename or version)')
    .option('--platform <platform>', 'platform (to pick among releases of one version)')
    .option('--filetype <type>', 'file type (to pick among releases of one version)')
    .option('--json', 'print the release as JSON')
    .action(
      run(async (ref: string, opts, cmd: Command) => {
        const c = client(cmd);
        const id = await resolveRelease(c, ref, opts);
        const doc = (await c.post(`/releases/${id}/actions/${action}`)).body;
        output.out(opts.json ? JSON.stringify(doc, null, 2) : describeRelease(doc.data as Resource));
      }),
    );
}

const releases = program.command('releases').description('release listings');
releases
  .command('list')
  .description('list releases, newest first')
  .option('--product <product>', 'product id or code')
  .option('--platform <platform>', 'platform')
  .addOption(enumOption('--channel <channel>', 'channel (and every more stable one)', CHANNELS))
  .addOption(enumOption('--status <status>', 'status', STATUSES))
  .addOption(new Option('--limit <n>', 'how many (1..100)').argParser(integerIn(1, 100)).default('20'))
  .option('--json', 'print the JSON:API document')
  .action(
    run(async (opts, cmd: Command) => {
      const c = client(cmd);
      const params = new URLSearchParams({ sort: '-created', 'page[size]': opts.limit });
      for (const k of ['product', 'platform', 'channel', 'status'] as const) if (opts[k]) params.set(k, opts[k]);
      const doc = (await c.get(`/releases?${params.toString().replace(/%5B/g, '[').replace(/%5D/g, ']')}`)).body;
      output.out(opts.json ? JSON.stringify(doc, null, 2) : releaseTable(doc.data as Resource[]));
    }),
  );

program
  .command('check-update')
  .description('what a license key (or the token) would be offered: the next version and its download URL')
  .requiredOption('--product <product>', 'product id or code')
  .requiredOption('--platform <platform>', 'platform, e.g. linux/amd64')
  .requiredOption('--version <version>', 'the version installed')
  .addOption(enumOption('--channel <channel>', 'channel', CHANNELS).default('stable'))
  .option('--filetype <type>', 'file type')
  .option('--constraint <constraint>', 'stay within a major (2) or major.minor (2.1)')
  .addOption(new Option('--key <key>', 'a license key to ask as').env('SHIPGATE_LICENSE_KEY'))
  .option('--json', 'print the answer as JSON')
  .action(
    run(async (opts, cmd: Command) => {
      const c = client(cmd, opts.key ? { authorization: `License ${opts.key}` } : {});
      const params = new URLSearchParams({ product: opts.product, platform: opts.platform, version: opts.version, channel: opts.channel });
      if (opts.filetype) params.set('filetype', opts.filetype);
      if (opts.constraint) params.set('constraint', opts.constraint);
      const res = await c.request('GET', `/releases/actions/upgrade?${params}`, { accept: [303, 204] });
      if (res.status === 204) {
        output.out(opts.json ? JSON.stringify({ update: false, current: opts.version }) : `No update: ${opts.version} is the newest for this caller`);
        return;
      }
      const meta = (res.body.meta ?? {}) as { current?: string; next?: string };
      const url = res.headers.get('location');
      if (opts.json) output.out(JSON.stringify({ update: true, current: meta.current, next: meta.next, url, artifact: res.body.data }, null, 2));
      else output.out(`Update available: ${meta.current} -> ${meta.next}\nDownload: ${url}`);
    }),
  );

const tokens = program.command('tokens').description('access tokens');
tokens
  .command('create')
  .description('create a token: a product token (--product, as an admin) or your own (--email and --password)')
  .option('--product <product>', 'product id or code: a product token for CI publishing')
  .addOption(new Option('--email <email>', 'your email (a token for yourself)').env('SHIPGATE_EMAIL'))
  .addOption(new Option('--password <password>', 'your password').env('SHIPGATE_PASSWORD'))
  .option('--name <name>', 'token name')
  .option('--expiry <time>', 'expiry (ISO 8601)')
  .option('--json', 'print the token resource as JSON')
  .action(
    run(async (opts, cmd: Command) => {
      const attributes: Record<string, string> = {};
      if (opts.name) attributes.name = opts.name;
      if (opts.expiry) attributes.expiry = opts.expiry;
      const body = Object.keys(attributes).length ? { data: { type: 'tokens', attributes } } : undefined;
      let doc;
      if (opts.product) {
        const c = client(cmd);
        const productId = isUuid(opts.product) ? opts.product : await resolveProduct(c, opts.product);
        doc = (await c.post(`/products/${productId}/tokens`, body)).body;
      } else {
        if (!opts.email || !opts.password) throw usageError('pass --product <product> (a product token), or --email and --password (a token for yourself)');
        const basic = `Basic ${Buffer.from(`${opts.email}:${opts.password}`).toString('base64')}`;
        const c = client(cmd, { authorization: basic });
        doc = (await c.request('POST', '/tokens', { body, authorization: basic })).body;
      }
      const token = doc.data as Resource;
      if (opts.json) {
        output.out(JSON.stringify(doc, null, 2));
      } else {
        output.info(`created ${token.attributes.kind} ${token.id}${token.attributes.expiry ? ` (expires ${token.attributes.expiry})` : ''}; it is shown once:`);
        output.out(String(token.attributes.token));
      }
    }),
  );

const products = program.command('products').description('products');
products
  .command('create')
  .description('create a product; prints its id')
  .requiredOption('--name <name>', 'product name')
  .option('--code <code>', 'a code to name it by instead of its id, e.g. acme-app')
  .addOption(enumOption('--distribution <strategy>', 'who may download its releases', DISTRIBUTION_STRATEGIES).default('LICENSED'))
  .option('--product-url <url>', 'the product\'s web page')
  .option('--json', 'print the product as JSON')
  .action(
    run(async (opts, cmd: Command) => {
      const attributes: Record<string, string> = { name: opts.name, distributionStrategy: opts.distribution };
      if (opts.code) attributes.code = opts.code;
      if (opts.productUrl) attributes.url = opts.productUrl;
      const doc = (await client(cmd).post('/products', { data: { type: 'products', attributes } })).body;
      const product = doc.data as Resource;
      if (opts.json) return output.out(JSON.stringify(doc, null, 2));
      output.info(`created product ${product.attributes.name}${product.attributes.code ? ` (${product.attributes.code})` : ''}, ${product.attributes.distributionStrategy}`);
      output.out(product.id);
    }),
  );

const licenses = program.command('licenses').description('licenses');
licenses
  .command('create')
  .description('create a license for a product; prints its key')
  .requiredOption('--product <product>', 'product id or code')
  .option('--name <name>', 'license name, e.g. the customer')
  .option('--key <key>', 'the key (default: generated)')
  .option('--expiry <time>', 'expiry (ISO 8601)')
  .addOption(enumOption('--expiration-strategy <strategy>', 'what an expired license may still do', EXPIRATION_STRATEGIES))
  .option('--json', 'print the license as JSON')
  .action(
    run(async (opts, cmd: Command) => {
      const c = client(cmd);
      const productId = await resolveProduct(c, opts.product);
      const attributes: Record<string, string> = {};
      for (const k of ['name', 'key', 'expiry', 'expirationStrategy'] as const) if (opts[k]) attributes[k] = opts[k];
      const doc = (await c.post('/licenses', { data: { type: 'licenses', attributes, relationships: { product: { data: { type: 'products', id: productId } } } } })).body;
      const license = doc.data as Resource;
      if (opts.json) return output.out(JSON.stringify(doc, null, 2));
      output.info(`created license ${license.id}${license.attributes.expiry ? ` (expires ${license.attributes.expiry})` : ''}; its key:`);
      output.out(String(license.attributes.key));
    }),
  );

program
  .command('setup')
  .description('create an account and its first admin on a server (needs its ROOT_TOKEN); prints shell lines that set BASE, ADMIN_TOKEN and SHIPGATE_*')
  .requiredOption('--email <email>', 'the admin\'s email')
  .addOption(new Option('--password <password>', 'the admin\'s password (default: generated and shown once)').env('SHIPGATE_PASSWORD'))
  .option('--account-name <name>', 'the account\'s name (default: its slug, --account)')
  .addOption(new Option('--root-token <token>', 'the server\'s ROOT_TOKEN (or set SHIPGATE_ROOT_TOKEN or ROOT_TOKEN)').env('SHIPGATE_ROOT_TOKEN'))
  .option('--demo', 'also create a product (demo-app), a license and a published release 1.0.0, and print PRODUCT_ID and LICENSE_KEY')
  .action(
    run(async (opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<Globals>();
      const rootToken = opts.rootToken ?? process.env.ROOT_TOKEN;
      if (!rootToken) throw usageError('no root token: pass --root-token or set SHIPGATE_ROOT_TOKEN (the server\'s ROOT_TOKEN); without a server running, `npm run setup` in the server\'s directory needs none');
      const c = client(cmd, { credential: 'none' });
      const account = g.account ?? process.env.SHIPGATE_ACCOUNT!;
      const result = await setupAccount(c.connection.url, rootToken, { account, accountName: opts.accountName, email: opts.email, password: opts.password, demo: opts.demo }, output);
      printSetup(c.connection.url, account, result, output);
    }),
  );

/** `shipgate --version`: before any command (after one, `--version` is that command's option, as in `publish --version 1.2.0`). */
function versionAsked(argv: string[]): boolean {
  const commands = new Set(program.commands.map((c) => c.name()));
  for (const arg of argv) {
    if (commands.has(arg)) return false;
    if (arg === '--version' || arg === '-V') return true;
  }
  return false;
}

if (versionAsked(process.argv.slice(2))) {
  output.out(`shipgate ${version()}`);
} else {
  program.parseAsync(process.argv).catch((error: unknown) => {
    process.stderr.write(`shipgate: ${(error as Error)?.message ?? String(error)}\n`);
    process.exitCode = error instanceof ShipgateError ? error.exitCode : EXIT.failed;
  });
}
