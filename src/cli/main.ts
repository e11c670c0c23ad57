#!/usr/bin/env node
import { Command, Option } from 'commander';
import { isUuid, ShipgateClient, ShipgateError } from './client';
import type { Resource } from './client';
import { consoleOutput, describeRelease, publish, releaseTable, resolveProduct, resolveRelease } from './commands';

/**
 * `shipgate`: publish releases to a Shipgate server and manage them from CI or a terminal.
 * Configuration comes from flags or SHIPGATE_URL, SHIPGATE_ACCOUNT, SHIPGATE_TOKEN. A failure
 * prints the server's error (status, code, detail) on stderr and exits with 1.
 */

interface Globals {
  url?: string;
  account?: string;
  token?: string;
}

const output = consoleOutput;
const CHANNELS = ['stable', 'rc', 'beta', 'alpha', 'dev'];

function client(cmd: Command, options: { credential?: 'token' | 'none'; authorization?: string } = {}): ShipgateClient {
  const g = cmd.optsWithGlobals<Globals>();
  const url = g.url ?? process.env.SHIPGATE_URL;
  const account = g.account ?? process.env.SHIPGATE_ACCOUNT;
  const token = g.token ?? process.env.SHIPGATE_TOKEN;
  if (!url) throw new ShipgateError('no server: pass --url or set SHIPGATE_URL');
  if (!/^https?:\/\//.test(url)) throw new ShipgateError(`--url ${url} must start with http:// or https://`);
  if (!account) throw new ShipgateError('no account: pass --account or set SHIPGATE_ACCOUNT');
  let authorization = options.authorization;
  if (authorization === undefined && options.credential !== 'none') {
    if (!token) throw new ShipgateError('no token: pass --token or set SHIPGATE_TOKEN (an admin or product token)');
    authorization = `Bearer ${token}`;
  }
  return new ShipgateClient({ url, account, authorization });
}

/** Runs an action; a failure is one line on stderr and exit code 1. */
function run<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (error) {
      const message = error instanceof ShipgateError ? error.message : `unexpected error: ${(error as Error)?.stack ?? String(error)}`;
      process.stderr.write(`shipgate: ${message}\n`);
      process.exitCode = 1;
    }
  };
}

const program = new Command('shipgate')
  .description('Publish and manage releases on a Shipgate server')
  .version(process.env.npm_package_version ?? '0.1.0', '-V, --cli-version', 'print the version of shipgate')
  .addOption(new Option('--url <url>', 'server base URL, e.g. https://releases.example.com').env('SHIPGATE_URL'))
  .addOption(new Option('--account <account>', 'account id or slug').env('SHIPGATE_ACCOUNT'))
  .addOption(new Option('--token <token>', 'an admin or product token').env('SHIPGATE_TOKEN'))
  .showHelpAfterError();

program
  .command('publish')
  .description('create a release (or reuse the same one), upload its file with a progress bar, and print it')
  .argument('<file>', 'the file to publish')
  .requiredOption('--product <product>', 'product id or code')
  .requiredOption('--version <version>', 'semver version, e.g. 1.2.0 or 1.3.0-beta.1')
  .requiredOption('--platform <platform>', 'platform, e.g. linux/amd64, darwin/arm64, windows')
  .addOption(new Option('--channel <channel>', 'release channel').choices(CHANNELS).default('stable'))
  .option('--filename <name>', 'file name on the server (default: the file\'s own name)')
  .option('--filetype <type>', 'file type (default: from the file name, e.g. tar.gz)')
  .option('--name <name>', 'release name')
  .option('--description <text>', 'release notes')
  .option('--signature <signature>', 'signature for the client to verify (e.g. a .sig file\'s content)')
  .option('--checksum <checksum>', 'checksum for the client to verify (default: the server shows the sha256)')
  .option('--metadata <json>', 'metadata JSON object')
  .option('--yank-previous', 'yank the release this one replaces (same product, platform, channel, filetype)')
  .option('--json', 'print the release as JSON')
  .action(
    run(async (file: string, opts, cmd: Command) => {
      await publish(client(cmd), file, opts, output);
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
  .addOption(new Option('--channel <channel>', 'channel (and every more stable one)').choices(CHANNELS))
  .option('--status <status>', 'NOT_PUBLISHED, PUBLISHED or YANKED')
  .option('--limit <n>', 'how many (1..100)', '20')
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
  .addOption(new Option('--channel <channel>', 'channel').choices(CHANNELS).default('stable'))
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
        if (!opts.email || !opts.password) throw new ShipgateError('pass --product <product> (a product token), or --email and --password (a token for yourself)');
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

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`shipgate: ${(error as Error)?.message ?? String(error)}\n`);
  process.exitCode = 1;
});
