import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { ShipgateClient, ShipgateError } from './client';
import type { Resource } from './client';
import type { Output } from './commands';

/**
 * `shipgate setup` and `npm run setup`: the first account and its admin (POST /v1/accounts with
 * the operator's ROOT_TOKEN), an admin token for them (POST /tokens with the admin's email and
 * password), and with `demo` a product, a license and a published release to try a download with.
 * Talks to the API like any client; `npm run setup` (src/setup.ts) runs it against a server it
 * starts itself when none is running.
 */

export interface SetupOptions {
  /** The new account's slug. */
  account: string;
  accountName?: string;
  email: string;
  /** Generated (and shown once) when absent. */
  password?: string;
  demo?: boolean;
}

export interface SetupResult {
  accountId: string;
  adminToken: string;
  /** The admin's password when it was generated here. */
  generatedPassword?: string;
  demo?: { productId: string; productCode: string; licenseKey: string; releaseId: string; version: string };
}

export const DEMO = { product: 'demo-app', version: '1.0.0', platform: 'linux/amd64', filename: 'demo-app-1.0.0.txt', content: 'Hello from Shipgate: demo-app 1.0.0\n' } as const;

const one = (r: { body: { data: unknown } }) => r.body.data as Resource;

export async function setupAccount(url: string, rootToken: string, o: SetupOptions, output: Output): Promise<SetupResult> {
  const base = url.replace(/\/+$/, '');
  const root = new ShipgateClient({ url: base, account: o.account, authorization: `Bearer ${rootToken}` });
  const password = o.password ?? randomBytes(12).toString('base64url');
  let account: Resource;
  try {
    account = one(
      await root.post(`${base}/v1/accounts`, {
        data: {
          type: 'accounts',
          attributes: { name: o.accountName ?? o.account, slug: o.account },
          relationships: { admins: { data: [{ type: 'users', attributes: { email: o.email, password } }] } },
        },
      }),
    );
  } catch (error) {
    if (error instanceof ShipgateError && error.code === 'SLUG_TAKEN') {
      throw new ShipgateError(
        `${error.message}: the account ${o.account} exists already; its admin gets a new token with \`shipgate tokens create --email <email> --password <password>\``,
        error.status,
        error.code,
      );
    }
    if (error instanceof ShipgateError && error.status === 401) {
      throw new ShipgateError(`${error.message}: the root token is not the server's ROOT_TOKEN`, error.status, error.code);
    }
    throw error;
  }
  output.info(`created the account ${o.account} (${account.id}) and its admin ${o.email}`);
  if (!o.password) output.info(`the admin's password, shown once: ${password}`);

  const basic = `Basic ${Buffer.from(`${o.email}:${password}`).toString('base64')}`;
  const tokenDoc = await root.request('POST', '/tokens', { authorization: basic, body: { data: { type: 'tokens', attributes: { name: 'setup' } } } });
  const adminToken = String(one(tokenDoc).attributes.token);
  const result: SetupResult = { accountId: account.id, adminToken, ...(o.password ? {} : { generatedPassword: password }) };
  if (o.demo) result.demo = await demoData(new ShipgateClient({ url: base, account: account.id, authorization: `Bearer ${adminToken}` }), output);
  return result;
}

/** A LICENSED product, a license for it, and its release 1.0.0 with a small file, published. */
async function demoData(admin: ShipgateClient, output: Output): Promise<NonNullable<SetupResult['demo']>> {
  const product = one(await admin.post('/products', { data: { type: 'products', attributes: { name: 'Demo App', code: DEMO.product, distributionStrategy: 'LICENSED' } } }));
  const productLink = { product: { data: { type: 'products', id: product.id } } };
  const license = one(await admin.post('/licenses', { data: { type: 'licenses', attributes: { name: 'Demo license' }, relationships: productLink } }));
  const bytes = Buffer.from(DEMO.content);
  const release = one(
    await admin.post('/releases', {
      data: {
        type: 'releases',
        attributes: { version: DEMO.version, channel: 'stable', platform: DEMO.platform, filename: DEMO.filename, filetype: 'txt', filesize: bytes.length },
        relationships: productLink,
      },
    }),
  );
  await admin.putStream(`/releases/${release.id}/artifact`, Readable.from([bytes]), bytes.length, {});
  output.info(`demo: product ${DEMO.product} (${product.id}), a license for it, release ${DEMO.version} (${DEMO.platform}, ${DEMO.filename}) published`);
  return { productId: product.id, productCode: DEMO.product, licenseKey: String(license.attributes.key), releaseId: release.id, version: DEMO.version };
}

const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * Shell lines that set the walk-through's variables (BASE, ADMIN_TOKEN, PRODUCT_ID, RELEASE_ID, LICENSE_KEY)
 * and the command's (SHIPGATE_URL, SHIPGATE_ACCOUNT, SHIPGATE_TOKEN): `eval "$(... setup ...)"`.
 */
export function exportLines(base: string, account: string, r: SetupResult): string {
  const lines = [
    `export BASE=${quote(base.replace(/\/+$/, ''))} ADMIN_TOKEN=${quote(r.adminToken)}`,
    `export SHIPGATE_URL="$BASE" SHIPGATE_ACCOUNT=${quote(account)} SHIPGATE_TOKEN="$ADMIN_TOKEN"`,
  ];
  if (r.demo) lines.push(`export PRODUCT_ID=${quote(r.demo.productId)} RELEASE_ID=${quote(r.demo.releaseId)} LICENSE_KEY=${quote(r.demo.licenseKey)}`);
  return lines.join('\n');
}

/** Prints the result: the lines on stdout, and on a terminal a word on what to do with them. */
export function printSetup(base: string, account: string, r: SetupResult, output: Output): void {
  output.out(exportLines(base, account, r));
  if (process.stdout.isTTY) {
    output.info('The admin token above is shown once. Paste these lines into your shell, or run setup as eval "$(npm run --silent setup -- ...)" next time.');
  }
}
