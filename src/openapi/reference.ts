import { API_VERSIONS } from '../jsonapi/api-version';
import type { SchemaObject } from './schemas';

/**
 * What the API reference says about each operation and attribute, kept in one place (keyed by
 * "METHOD /path" and by resource type) rather than in decorators spread over the controllers: a
 * summary per operation, a typed schema with an example per attribute, and the bodies the
 * decorators cannot describe. `applyReference` (called when the document is built) fills them in;
 * test/e2e/openapi.e2e-spec.ts fails when an operation or an attribute has no entry here.
 */

const UUID = '5a1d8c5e-3f0b-4a8e-9a57-2f1f7c3b9d10';
const ACCOUNT_PATH = `/v1/accounts/${UUID}`;
const TIME = '2026-01-31T12:00:00.000Z';
const LICENSE_KEY = '6C02A4-3DFD81-4169A3-3050D8-EC8FC1-C4D894';
const SHA256 = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
const SHA512 =
  'ee26b0dd4af7e749aa1a8ee3c10ae9923f618980772e473f8819a5d4940e0db27ac185f8a0e1d5f84f88bc887fd67b143732c304cc5fa9ad8e6f57f50028a8ff';

const time = (description?: string): SchemaObject => ({ type: 'string', format: 'date-time', examples: [TIME], ...(description ? { description } : {}) });
const nullableTime = (description: string): SchemaObject => ({ type: ['string', 'null'], format: 'date-time', examples: [null], description });
const text = (example: string, description?: string): SchemaObject => ({ type: 'string', examples: [example], ...(description ? { description } : {}) });
const nullableText = (example: string | null, description?: string): SchemaObject => ({ type: ['string', 'null'], examples: [example], ...(description ? { description } : {}) });
const choice = (values: readonly string[], description?: string): SchemaObject => ({ type: 'string', enum: [...values], examples: [values[0]], ...(description ? { description } : {}) });
const count = (description: string, example = 0): SchemaObject => ({ type: 'integer', minimum: 0, examples: [example], description });
const metadata: SchemaObject = { type: 'object', description: 'Your own key-value data (up to 16 KiB, depth <= 4)', examples: [{ build: '2026.01.31' }] };
const stamps = { created: time('When it was created'), updated: time('When it last changed') };

const CHANNELS = ['stable', 'rc', 'beta', 'alpha', 'dev'] as const;

/** Every attribute of every resource type: its schema, with an example. */
export const ATTRIBUTES: Record<string, Record<string, SchemaObject>> = {
  accounts: {
    name: text('Acme'),
    slug: text('acme', 'Unique, [a-z0-9-], not UUID-shaped; usable instead of the id in paths'),
    apiVersion: choice([...API_VERSIONS], 'The API version of requests without a Keygen-Version header (docs/api-versions.md)'),
    ...stamps,
  },
  users: {
    email: { type: 'string', format: 'email', examples: ['jane@customer.test'] },
    firstName: nullableText('Jane'),
    lastName: nullableText('Doe'),
    fullName: nullableText('Jane Doe', 'firstName and lastName'),
    role: choice(['user', 'admin']),
    password: { type: ['string', 'null'], writeOnly: true, examples: ['a-long-password'], description: 'Write-only, 8..72 characters' },
    currentPassword: { type: ['string', 'null'], writeOnly: true, examples: ['the-old-password'], description: 'Required to change your own password' },
    ...stamps,
  },
  tokens: {
    kind: choice(['admin-token', 'user-token', 'product-token']),
    name: nullableText('ci'),
    token: text(`prod-${'0f'.repeat(32)}`, 'The secret: only in the answer that creates the token'),
    expiry: nullableTime('When the token stops working; null: never'),
    ...stamps,
  },
  products: {
    name: text('Acme App'),
    code: nullableText('acme-app', 'Unique per account; usable instead of the id in paths and filters'),
    distributionStrategy: choice(['LICENSED', 'OPEN', 'CLOSED'], 'Who may download: license holders, also anonymous callers, or only admins and the product token'),
    url: { type: ['string', 'null'], format: 'uri', examples: ['https://acme.example.com'] },
    minimumVersion: nullableText('2.0.0', 'Update answers to installs below it are critical (and say belowMinimum)'),
    rollbackOnYank: { type: 'boolean', examples: [false], description: 'Installs on a yanked release are offered the newest visible release below it' },
    metadata,
    ...stamps,
  },
  packages: {
    name: text('Acme SDK'),
    key: text('acme-sdk', 'Unique per account: the name package managers use (acme-sdk, @acme/cli)'),
    engine: { type: ['string', 'null'], enum: ['pypi', 'npm', 'raw', 'tauri', null], examples: ['pypi'], description: 'The package manager it is served to (docs/packages.md), or null' },
    metadata,
    ...stamps,
  },
  entitlements: { name: text('Pro features'), code: text('PRO', 'Unique per account, case-insensitive'), metadata, ...stamps },
  licenses: {
    key: text(LICENSE_KEY, 'The customer\'s key; generated when not given'),
    name: nullableText('Jane Doe (Customer Inc.)'),
    expiry: nullableTime('When the license expires; null: never'),
    expirationStrategy: choice(['RESTRICT_ACCESS', 'REVOKE_ACCESS', 'ALLOW_ACCESS'], 'What an expired license may still do'),
    status: choice(['ACTIVE', 'EXPIRED', 'SUSPENDED']),
    suspended: { type: 'boolean', examples: [false] },
    versionPin: nullableText('~2.4', 'A semver range: update checks offer this license only versions inside it'),
    metadata,
    ...stamps,
  },
  releases: {
    name: nullableText('Acme 1.4.0'),
    description: nullableText('Faster start; fixes the export of large files', 'Release notes (up to 64 KiB)'),
    channel: choice(CHANNELS),
    platform: text('linux/amd64', 'Lowercase; may carry an arch'),
    filename: text('acme-1.4.0.tar.gz', 'Unique per product'),
    filetype: text('tar.gz', 'The filename\'s extension'),
    filesize: { type: ['integer', 'null'], minimum: 0, examples: [1048576], description: 'Bytes; set by the upload when absent' },
    signature: nullableText(null, 'Kept for the client to verify, e.g. a Tauri .sig'),
    checksum: nullableText(SHA256, 'Kept for the client to verify; the upload\'s SHA-256 when not given'),
    version: text('1.4.0', 'SemVer 2.0, without a leading v; immutable'),
    semver: {
      type: 'object',
      properties: {
        major: { type: 'integer', examples: [1] },
        minor: { type: 'integer', examples: [4] },
        patch: { type: 'integer', examples: [0] },
        prerelease: { type: ['string', 'null'], examples: [null] },
        build: { type: ['string', 'null'], examples: [null] },
      },
    },
    metadata,
    status: choice(['PUBLISHED', 'NOT_PUBLISHED', 'YANKED']),
    critical: { type: 'boolean', examples: [false], description: 'Installs older than this release must update' },
    required: { type: 'boolean', examples: [false], description: 'A stepping stone: installs below it are offered it, not anything above it' },
    rolloutPercentage: { type: 'integer', minimum: 0, maximum: 100, examples: [100], description: 'The share of licenses offered this release' },
    downloads: count('Downloads counted', 12),
    upgrades: count('Upgrades to this release counted', 3),
    ...stamps,
    yanked: nullableTime('When it was yanked'),
  },
  artifacts: {
    filename: text('acme-1.4.0.tar.gz'),
    filetype: text('tar.gz'),
    filesize: { type: ['integer', 'null'], minimum: 0, examples: [1048576] },
    contentType: nullableText('application/gzip'),
    sha256: nullableText(SHA256, 'Lowercase hex, computed while receiving'),
    sha512: nullableText(SHA512, 'Lowercase hex, computed while receiving'),
    status: choice(['UPLOADED', 'WAITING', 'FAILED', 'YANKED']),
    platform: nullableText('windows', 'API 1.1: the artifact\'s operating system (darwin, linux, windows, ...)'),
    arch: nullableText('amd64', 'API 1.1: the artifact\'s architecture (amd64, arm64, 386, ...)'),
    signature: nullableText(null, 'API 1.1: kept for the client to verify'),
    checksum: nullableText(null, 'API 1.1: kept for the client to verify'),
    metadata,
    downloads: count('API 1.1: downloads of this artifact counted', 7),
    ...stamps,
  },
  constraints: { ...stamps },
  events: {
    event: text('release.published'),
    created: time(),
    payload: { type: 'object', description: 'The resource as the API shows it (see docs/webhooks.md)', examples: [{ id: UUID, type: 'releases', attributes: { version: '1.4.0' } }] },
  },
  'webhook-endpoints': {
    url: { type: 'string', format: 'uri', examples: ['https://ci.example.com/hooks/shipgate'] },
    events: { type: 'array', items: { type: 'string', examples: ['release.published'] }, examples: [['release.published', 'release.yanked']], description: 'Event names, or ["*"]' },
    enabled: { type: 'boolean', examples: [true] },
    secret: text('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'Only in the answers of create and rotate-secret'),
    circuit: {
      ...choice(['closed', 'open', 'half-open'], 'Read-only. closed: deliveries are attempted; open: after WEBHOOKS_CIRCUIT_THRESHOLD consecutive failed attempts, pending deliveries wait for nextProbe; half-open: one probe delivery is in flight (success closes, failure opens again for twice as long, up to an hour)'),
      readOnly: true,
    },
    consecutiveFailures: { ...count('Read-only. Failed attempts since the last accepted one'), readOnly: true },
    nextProbe: { ...nullableTime('Read-only. When an open circuit tries one delivery again; null when closed'), readOnly: true },
    ...stamps,
  },
  'webhook-deliveries': {
    event: text('release.published'),
    status: choice(['DELIVERED', 'PENDING', 'FAILED']),
    attempts: count('Attempts so far', 1),
    lastStatusCode: { type: ['integer', 'null'], examples: [200] },
    lastError: nullableText(null, 'e.g. the receiver answered 503'),
    nextAttempt: nullableTime('When the next attempt is due'),
    delivered: { type: ['string', 'null'], format: 'date-time', examples: [TIME] },
    ...stamps,
  },
};

const linkage = (type?: string): SchemaObject => ({
  type: 'object',
  required: ['type', 'id'],
  properties: { type: type ? { type: 'string', enum: [type], examples: [type] } : { type: 'string', examples: ['products'] }, id: { type: 'string', examples: [UUID] } },
});

/** A relationship's `data`: one linkage, a list of them, or null. */
export const RELATIONSHIP_DATA: SchemaObject = { oneOf: [linkage(), { type: 'array', items: linkage() }, { type: 'null' }] };

/** A resource of `type` as the serializer writes it (for the answers described here by hand). */
function resource(type: string): SchemaObject {
  return {
    type: 'object',
    required: ['id', 'type', 'attributes'],
    properties: {
      id: { type: 'string', format: 'uuid', examples: [UUID] },
      type: { type: 'string', enum: [type] },
      attributes: { type: 'object', properties: Object.fromEntries(Object.entries(ATTRIBUTES[type]).filter(([, s]) => !s.writeOnly)) },
      links: { type: 'object', properties: { self: { type: 'string', examples: [`${ACCOUNT_PATH}/${type}/${UUID}`] } } },
    },
  };
}

const jsonBody = (schema: SchemaObject, example?: unknown) => ({ contentType: 'application/json', schema, example });

/** A body the decorators do not describe (a route that reads or writes it itself). */
export interface BodyDoc {
  contentType: string;
  schema: SchemaObject;
  /** Generated from the schema when absent. */
  example?: unknown;
  description?: string;
}

export interface OperationDoc {
  summary: string;
  /** An example of the request body, where the one generated from its schema says too little. */
  requestExample?: unknown;
  /** The request body, when the route reads it without a JsonApiBodyPipe. */
  requestBody?: BodyDoc & { required?: boolean };
  /** Answers whose content the decorators leave vague (a bare object or string), by status. */
  responses?: Record<string, BodyDoc>;
}

const TAURI_ANSWER: SchemaObject = {
  type: 'object',
  required: ['version', 'url', 'signature'],
  properties: {
    version: text('1.4.0'),
    url: { type: 'string', format: 'uri', examples: [`https://releases.example.com${ACCOUNT_PATH}/artifacts/${UUID}/acme_1.4.0_x64.app.tar.gz?expires=1769864400&signature=3f6c2a9e0b7d41c58e2f9a6b1c0d7e4f`] },
    signature: text('dW50cnVzdGVkIGNvbW1lbnQ6IHNpZ25hdHVyZSBmcm9tIHRhdXJpIHNlY3JldCBrZXkK…', 'The .sig file\'s content'),
    notes: text('Faster start; fixes the export of large files'),
    pub_date: time(),
    critical: { type: 'boolean', examples: [false] },
    rollback: { type: 'boolean', enum: [true], description: "Present when this release is below the app's, whose release was yanked" },
  },
};

const DECISIONS = ['offered', 'platform', 'channel', 'not-published', 'yanked', 'closed', 'expired', 'constraint', 'not-newer', 'rollout', 'pin', 'stepping-stone', 'superseded', 'suspended'];

const EXPLAIN_ANSWER: SchemaObject = {
  type: 'object',
  required: ['data', 'meta'],
  properties: {
    data: {
      type: 'array',
      items: {
        type: 'object',
        required: ['type', 'id', 'attributes'],
        properties: {
          type: { type: 'string', enum: ['decisions'] },
          id: { type: 'string' },
          attributes: {
            type: 'object',
            required: ['version', 'decision', 'detail'],
            properties: {
              version: text('3.0.0'),
              channel: choice(CHANNELS),
              platform: text('windows'),
              filetype: text('exe'),
              filename: text('Acme-Setup-3.0.0.exe'),
              status: choice(['PUBLISHED', 'NOT_PUBLISHED', 'YANKED']),
              decision: choice(DECISIONS, 'offered, or the rule that kept the release from this customer'),
              detail: text('2.0.0 is required first'),
              entitlements: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, code: { type: ['string', 'null'] } } } },
              bucket: { type: ['integer', 'null'] },
              percentage: { type: 'integer' },
              pin: { type: 'string' },
              required: { type: 'object', properties: { id: { type: 'string' }, version: { type: 'string' } } },
            },
          },
          relationships: { type: 'object' },
        },
      },
    },
    meta: {
      type: 'object',
      properties: {
        current: text('1.0.0'),
        offered: { type: ['object', 'null'], properties: { release: { type: 'string' }, version: { type: 'string' } } },
        critical: { type: 'boolean' },
        belowMinimum: { type: 'boolean' },
        rollback: { type: 'boolean' },
        caller: { type: 'object' },
      },
    },
  },
};

const EXPLAIN_EXAMPLE = {
  data: [
    {
      type: 'decisions',
      id: UUID,
      attributes: { version: '3.0.0', channel: 'stable', platform: 'windows', filetype: 'exe', filename: 'Acme-Setup-3.0.0.exe', status: 'PUBLISHED', decision: 'stepping-stone', detail: '2.0.0 is required first', required: { id: UUID, version: '2.0.0' } },
      relationships: { release: { data: { type: 'releases', id: UUID } } },
    },
  ],
  meta: { current: '1.0.0', offered: { release: UUID, version: '2.0.0' }, critical: false, belowMinimum: false, rollback: false, caller: { license: UUID } },
};

const TAURI_STATIC: SchemaObject = {
  type: 'object',
  required: ['version', 'platforms'],
  properties: {
    version: text('1.4.0'),
    notes: text('Faster start'),
    pub_date: time(),
    platforms: {
      type: 'object',
      description: 'Keyed <os>-<arch> and <os>-<arch>-<bundle> (nsis, msi, deb, rpm, appimage, app)',
      additionalProperties: { type: 'object', required: ['url', 'signature'], properties: { url: { type: 'string', format: 'uri' }, signature: { type: 'string' } } },
    },
  },
};

const TAURI_STATIC_EXAMPLE = {
  version: '1.4.0',
  notes: 'Faster start',
  pub_date: TIME,
  platforms: {
    'linux-x86_64': { url: `https://releases.example.com${ACCOUNT_PATH}/artifacts/${UUID}/acme_1.4.0_amd64.AppImage?expires=1769864400&signature=3f6c`, signature: 'dW50cnVzdGVk…' },
    'linux-x86_64-deb': { url: `https://releases.example.com${ACCOUNT_PATH}/artifacts/${UUID}/acme_1.4.0_amd64.deb?expires=1769864400&signature=9a1b`, signature: 'dW50cnVzdGVk…' },
  },
};

const VELOPACK_ASSET_EXAMPLE = {
  PackageId: 'AcmeApp',
  Version: '1.4.0',
  Type: 'Full',
  FileName: `https://releases.example.com${ACCOUNT_PATH}/artifacts/${UUID}/AcmeApp-1.4.0-full.nupkg?expires=1769864400&signature=3f6c`,
  SHA1: '2fd4e1c67a2d28fced849ee1bb76e7391b93eb12',
  SHA256: SHA256,
  Size: 48213120,
  NotesMarkdown: 'Faster start',
  NotesHtml: '',
};

const VELOPACK_FEED: SchemaObject = {
  type: 'object',
  required: ['Assets'],
  properties: {
    Assets: {
      type: 'array',
      items: {
        type: 'object',
        required: ['PackageId', 'Version', 'Type', 'FileName', 'SHA1', 'SHA256', 'Size'],
        properties: {
          PackageId: { type: 'string' },
          Version: { type: 'string' },
          Type: { type: 'string', enum: ['Full', 'Delta'] },
          FileName: { type: 'string', format: 'uri' },
          SHA1: { type: 'string' },
          SHA256: { type: 'string' },
          Size: { type: 'integer', minimum: 0 },
          NotesMarkdown: { type: 'string' },
          NotesHtml: { type: 'string' },
        },
      },
    },
  },
};

const VELOPACK_EXAMPLE = { Assets: [VELOPACK_ASSET_EXAMPLE] };

const SQUIRREL_RELEASES = `2FD4E1C67A2D28FCED849EE1BB76E7391B93EB12 https://releases.example.com${ACCOUNT_PATH}/artifacts/${UUID}/AcmeApp-1.4.0-full.nupkg?expires=1769864400&signature=3f6c 48213120`;

const ELECTRON_YML = `version: 1.4.0
files:
  - url: https://releases.example.com${ACCOUNT_PATH}/artifacts/${UUID}/Acme-Setup-1.4.0.exe
    sha512: 7iaw3Ur350mqGo7jwQrpkj9hiYB3Lkc/iBml1JQODbJ6wYX4oOHV+E+IvIh/1nsUNzLDBMxfqa2Ob1f1ACio/w==
    size: 1048576
path: https://releases.example.com${ACCOUNT_PATH}/artifacts/${UUID}/Acme-Setup-1.4.0.exe
sha512: 7iaw3Ur350mqGo7jwQrpkj9hiYB3Lkc/iBml1JQODbJ6wYX4oOHV+E+IvIh/1nsUNzLDBMxfqa2Ob1f1ACio/w==
releaseDate: '${TIME}'
`;

const APPCAST = `<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:sparkle="http://www.andymatuschak.org/xml-namespaces/sparkle">
  <channel>
    <title>Acme App</title>
    <item>
      <title>1.4.0</title>
      <pubDate>Sat, 31 Jan 2026 12:00:00 GMT</pubDate>
      <sparkle:version>1.4.0</sparkle:version>
      <enclosure url="https://releases.example.com${ACCOUNT_PATH}/artifacts/${UUID}/Acme-1.4.0.dmg" length="1048576" type="application/octet-stream" sparkle:edSignature="…"/>
    </item>
  </channel>
</rss>
`;

const FILE_BYTES: BodyDoc = { contentType: 'application/octet-stream', schema: { type: 'string', contentMediaType: 'application/octet-stream' }, example: '<the file\'s bytes>' };

const SIMPLE_PROJECT = `<!DOCTYPE html>
<html>
  <head>
    <meta name="pypi:repository-version" content="1.0">
    <title>Links for acme-sdk</title>
  </head>
  <body>
    <h1>Links for acme-sdk</h1>
    <a href="${ACCOUNT_PATH}/engines/pypi/files/acme-sdk/${UUID}/acme_sdk-1.2.0-py3-none-any.whl#sha256=${SHA256}" data-requires-python="&gt;=3.8">acme_sdk-1.2.0-py3-none-any.whl</a><br/>
  </body>
</html>
`;

const SIMPLE_INDEX = `<!DOCTYPE html>
<html>
  <head>
    <meta name="pypi:repository-version" content="1.0">
    <title>Simple index</title>
  </head>
  <body>
    <a href="acme-sdk/">acme-sdk</a><br/>
  </body>
</html>
`;

const PACKUMENT: SchemaObject = {
  type: 'object',
  required: ['name', 'dist-tags', 'versions', 'time'],
  properties: {
    name: text('@acme/cli'),
    'dist-tags': { type: 'object', additionalProperties: { type: 'string' }, examples: [{ latest: '1.1.0', beta: '2.0.0-beta.1' }] },
    versions: {
      type: 'object',
      description: "Each version: the tarball's package.json and `dist`",
      additionalProperties: { type: 'object', properties: { name: { type: 'string' }, version: { type: 'string' }, dist: { type: 'object', properties: { tarball: { type: 'string' }, integrity: { type: 'string' }, shasum: { type: 'string' } } } } },
      examples: [
        {
          '1.1.0': {
            name: '@acme/cli',
            version: '1.1.0',
            main: 'index.js',
            dist: { tarball: `https://releases.example.com${ACCOUNT_PATH}/engines/npm/@acme/cli/-/${UUID}/acme-cli-1.1.0.tgz`, integrity: `sha512-${Buffer.from(SHA512, 'hex').toString('base64')}`, shasum: 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3' },
          },
        },
      ],
    },
    time: { type: 'object', additionalProperties: { type: 'string' }, examples: [{ created: TIME, modified: TIME, '1.1.0': TIME }] },
  },
};

const HEALTH: SchemaObject = { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['ok'] } }, additionalProperties: { type: 'string', enum: ['ok'] } };

const VALIDATE_KEY_ANSWER: SchemaObject = {
  type: 'object',
  required: ['meta', 'data'],
  properties: {
    meta: {
      type: 'object',
      required: ['valid', 'code'],
      properties: {
        valid: { type: 'boolean', examples: [true] },
        code: choice(['VALID', 'NOT_FOUND', 'SUSPENDED', 'EXPIRED', 'PRODUCT_SCOPE_MISMATCH']),
        detail: text('is valid'),
      },
    },
    data: { oneOf: [resource('licenses'), { type: 'null' }] },
  },
};

/** Every operation, by "METHOD /path" as in the document. */
export const OPERATIONS: Record<string, OperationDoc> = {
  // operations
  'GET /health': { summary: 'Liveness: 200 while the process runs', responses: { '200': jsonBody(HEALTH, { status: 'ok' }) } },
  'GET /health/ready': {
    summary: 'Readiness: 200 when the database and the artifact storage answer, else 503',
    responses: { '200': jsonBody(HEALTH, { status: 'ok', database: 'ok', storage: 'ok' }) },
  },
  'GET /metrics': {
    summary: 'Prometheus metrics (needs METRICS_TOKEN when it is set)',
    responses: {
      '200': {
        contentType: 'text/plain',
        schema: { type: 'string' },
        example: '# TYPE shipgate_http_requests_total counter\nshipgate_http_requests_total{method="GET",route="/v3/releases/update",status="200"} 1027\n',
      },
    },
  },
  'GET /openapi.json': {
    summary: 'This OpenAPI 3.1 document',
    responses: { '200': jsonBody({ type: 'object', required: ['openapi', 'info', 'paths'], properties: { openapi: { type: 'string' }, info: { type: 'object' }, paths: { type: 'object' } } }, { openapi: '3.1.0', info: { title: 'Shipgate', version: '1' }, paths: {} }) },
  },
  'GET /docs': {
    summary: 'The API reference page, rendered from /openapi.json (assets served locally)',
    responses: { '200': { contentType: 'text/html', schema: { type: 'string' }, example: '<!DOCTYPE html><html><head><title>Shipgate API reference</title>…' } },
  },

  // accounts (the operator's root token, then the account's admins)
  'POST /v1/accounts': {
    summary: 'Create an account and its first admin (root token)',
    requestExample: {
      data: {
        type: 'accounts',
        attributes: { name: 'Acme', slug: 'acme' },
        relationships: { admins: { data: [{ type: 'users', attributes: { email: 'admin@acme.test', password: 'a-long-password' } }] } },
      },
    },
  },
  'GET /v1/accounts': { summary: 'List accounts (root token)' },
  'GET /v1/accounts/{account}': { summary: 'Read an account' },
  'PATCH /v1/accounts/{account}': { summary: 'Rename an account or change its slug' },
  'DELETE /v1/accounts/{account}': { summary: 'Delete an account and everything in it (root token)' },

  // users, tokens, the caller
  'POST /v1/accounts/{account}/users': { summary: 'Create a user' },
  'GET /v1/accounts/{account}/users': { summary: 'List users' },
  'GET /v1/accounts/{account}/users/{id}': { summary: 'Read a user' },
  'PATCH /v1/accounts/{account}/users/{id}': { summary: 'Change a user (name, email, role, password)' },
  'DELETE /v1/accounts/{account}/users/{id}': { summary: 'Delete a user' },
  'GET /v1/accounts/{account}/users/{id}/licenses': { summary: 'List the licenses a user owns' },
  'POST /v1/accounts/{account}/tokens': { summary: 'Sign in: a token for the user of an email and password (HTTP Basic); shown once' },
  'GET /v1/accounts/{account}/tokens': { summary: 'List tokens (admins: all; users: their own)' },
  'GET /v1/accounts/{account}/tokens/{id}': { summary: 'Read a token (never its secret)' },
  'DELETE /v1/accounts/{account}/tokens/{id}': { summary: 'Revoke a token' },
  'GET /v1/accounts/{account}/me': {
    summary: 'Who am I: the user, license or product of the credential',
    responses: {
      '200': jsonBody({ type: 'object', required: ['data'], properties: { data: { oneOf: [resource('users'), resource('licenses'), resource('products')] } } }),
    },
  },

  // products, entitlements, licenses
  'POST /v1/accounts/{account}/products': { summary: 'Create a product' },
  'GET /v1/accounts/{account}/products': { summary: 'List products' },
  'GET /v1/accounts/{account}/products/{id}': { summary: 'Read a product (by id or code)' },
  'PATCH /v1/accounts/{account}/products/{id}': { summary: 'Change a product' },
  'DELETE /v1/accounts/{account}/products/{id}': { summary: 'Delete a product (?force=true: with its releases, files, licenses and tokens)' },
  'POST /v1/accounts/{account}/products/{id}/tokens': { summary: 'Issue a product token for CI publishing; shown once' },
  'POST /v1/accounts/{account}/entitlements': { summary: 'Create an entitlement (a named feature licenses hold)' },
  'GET /v1/accounts/{account}/entitlements': { summary: 'List entitlements' },
  'GET /v1/accounts/{account}/entitlements/{id}': { summary: 'Read an entitlement' },
  'PATCH /v1/accounts/{account}/entitlements/{id}': { summary: 'Change an entitlement' },
  'DELETE /v1/accounts/{account}/entitlements/{id}': { summary: 'Delete an entitlement' },
  'POST /v1/accounts/{account}/licenses': { summary: 'Create a license for a product (its key is generated unless given)' },
  'GET /v1/accounts/{account}/licenses': { summary: 'List licenses' },
  'GET /v1/accounts/{account}/licenses/{id}': { summary: 'Read a license' },
  'PATCH /v1/accounts/{account}/licenses/{id}': { summary: 'Change a license (name, expiry, owner, ...)' },
  'DELETE /v1/accounts/{account}/licenses/{id}': { summary: 'Delete a license' },
  'POST /v1/accounts/{account}/licenses/{id}/actions/suspend': { summary: 'Suspend a license: its key stops working (403 LICENSE_SUSPENDED)' },
  'POST /v1/accounts/{account}/licenses/{id}/actions/reinstate': { summary: 'Reinstate a suspended license' },
  'GET /v1/accounts/{account}/licenses/{id}/entitlements': { summary: 'List a license\'s entitlements' },
  'POST /v1/accounts/{account}/licenses/{id}/entitlements': { summary: 'Attach entitlements to a license' },
  'DELETE /v1/accounts/{account}/licenses/{id}/entitlements': { summary: 'Detach entitlements from a license' },
  'POST /v1/accounts/{account}/licenses/actions/validate-key': {
    summary: 'Validate a license key (no credential needed; always 200 with meta.valid)',
    requestBody: {
      contentType: 'application/vnd.api+json',
      required: true,
      schema: {
        type: 'object',
        required: ['meta'],
        properties: {
          meta: {
            type: 'object',
            required: ['key'],
            properties: { key: text(LICENSE_KEY), scope: { type: 'object', properties: { product: text('acme-app', 'A product id or code the key must belong to') } } },
          },
        },
      },
      example: { meta: { key: LICENSE_KEY, scope: { product: 'acme-app' } } },
    },
    responses: { '200': jsonBody(VALIDATE_KEY_ANSWER) },
  },

  // releases and their files
  'POST /v1/accounts/{account}/releases': { summary: 'Create a release (NOT_PUBLISHED until its file is uploaded)' },
  'GET /v1/accounts/{account}/releases': { summary: 'List the releases the caller may see (filters: product, platform, channel, status, ...)' },
  'GET /v1/accounts/{account}/releases/{id}': { summary: 'Read a release (by id, filename, or version with ?product=)' },
  'PATCH /v1/accounts/{account}/releases/{id}': { summary: 'Change a release (notes, rollout, critical, ...; the version is immutable)' },
  'DELETE /v1/accounts/{account}/releases/{id}': { summary: 'Delete a release and its file' },
  'GET /v1/accounts/{account}/releases/{id}/product': { summary: 'Read a release\'s product' },
  'POST /v1/accounts/{account}/releases/{id}/actions/yank': { summary: 'Yank a release: customers no longer see it' },
  'POST /v1/accounts/{account}/releases/{id}/actions/draft': { summary: 'Make a release a draft again (API 1.1: DRAFT; 1.0: NOT_PUBLISHED)' },
  'POST /v1/accounts/{account}/artifacts': { summary: 'API 1.1: create an artifact of a release; answers 307 (201 with Prefer: no-redirect) with its signed upload URL' },
  'GET /v1/accounts/{account}/artifacts': { summary: 'API 1.1: list the artifacts the caller may see' },
  'GET /v1/accounts/{account}/releases/{id}/artifacts': { summary: 'API 1.1: list a release\'s artifacts' },
  'PATCH /v1/accounts/{account}/artifacts/{id}': { summary: 'API 1.1: change an artifact\'s filesize (before its upload), signature, checksum or metadata' },
  'DELETE /v1/accounts/{account}/artifacts/{id}': { summary: 'API 1.1: yank an artifact (its download URLs stop working at once)' },
  'GET /v1/accounts/{account}/artifacts/{id}/constraints': { summary: 'The entitlements an artifact requires besides its release\'s' },
  'POST /v1/accounts/{account}/artifacts/{id}/constraints': { summary: 'Attach entitlements an artifact requires' },
  'DELETE /v1/accounts/{account}/artifacts/{id}/constraints': { summary: 'Detach an artifact\'s constraints' },
  'POST /v1/accounts/{account}/releases/{id}/actions/publish': { summary: 'Publish a yanked or unpublished release again (its file must be uploaded)' },
  'PUT /v1/accounts/{account}/releases/{id}/artifact': {
    summary: 'Upload a release\'s file (streamed; an empty body answers 307 with a signed upload URL)',
    requestBody: { ...FILE_BYTES, description: 'The file\'s bytes; optional Content-Digest (sha-256 or sha-512) is verified' },
  },
  'GET /v1/accounts/{account}/releases/{id}/artifact': { summary: 'Download a release\'s file: 303 to a signed, expiring URL' },
  'DELETE /v1/accounts/{account}/releases/{id}/artifact': { summary: 'Delete a release\'s file (a PUBLISHED release becomes NOT_PUBLISHED)' },
  'GET /v1/accounts/{account}/artifacts/{filename}': { summary: 'Download a file by name (Keygen\'s route; ?product= narrows): 303 to a signed URL' },
  'GET /v1/accounts/{account}/artifacts/{artifactId}/{filename}': {
    summary: 'The file itself, from a signed URL (Range: one range 206, several 206 multipart/byteranges)',
    responses: {
      '200': FILE_BYTES,
      '206': {
        contentType: 'multipart/byteranges',
        schema: { type: 'string' },
        example: '--3d6b6a41\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-99/8000\r\n\r\n<bytes 0-99>\r\n--3d6b6a41\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 500-599/8000\r\n\r\n<bytes 500-599>\r\n--3d6b6a41--\r\n',
      },
    },
  },
  'PUT /v1/accounts/{account}/artifacts/{artifactId}/{filename}': {
    summary: 'Upload to a signed upload URL (the 307 of an empty-body artifact PUT)',
    requestBody: { ...FILE_BYTES, description: 'The file\'s bytes' },
  },
  'GET /v1/accounts/{account}/releases/{release}/constraints': { summary: 'List a release\'s constraints (the entitlements it requires)' },
  'POST /v1/accounts/{account}/releases/{release}/constraints': { summary: 'Attach constraints: licenses need these entitlements to see the release' },
  'DELETE /v1/accounts/{account}/releases/{release}/constraints': { summary: 'Detach constraints from a release' },
  'GET /v1/accounts/{account}/releases/{release}/constraints/{id}': { summary: 'Read a constraint' },

  // update checks and feeds
  'GET /v1/accounts/{account}/releases/actions/upgrade': { summary: 'Update check: 303 to the newest release above ?version for the caller, or 204' },
  'GET /v1/accounts/{account}/releases/actions/explain': {
    summary: 'Why no update? (admins) The decision for a customer per release of a line, and the rule behind it',
    responses: { '200': jsonBody(EXPLAIN_ANSWER, EXPLAIN_EXAMPLE) },
  },
  'GET /v1/accounts/{account}/releases/{id}/upgrade': { summary: 'Update check from a release: the newest release above it for the caller' },
  'GET /v3/releases/update': { summary: 'Cryptlex-style update check: the newest release above ?version, or 204' },
  'GET /v3/releases/latest': { summary: 'Cryptlex-style: the newest release of a product for the caller' },
  'GET /v3/{releaseId}': { summary: 'Cryptlex-style download of a release\'s file', responses: { '200': FILE_BYTES } },
  'GET /v1/accounts/{account}/products/{product}/feeds/electron/{file}': {
    summary: 'electron-updater feed (latest.yml, latest-mac.yml, ...) for the caller',
    responses: { '200': { contentType: 'text/yaml', schema: { type: 'string' }, example: ELECTRON_YML } },
  },
  'GET /v1/accounts/{account}/products/{product}/feeds/tauri': {
    summary: 'Tauri updater feed: the newest release above ?version for the caller, or 204',
    responses: { '200': jsonBody(TAURI_ANSWER) },
  },
  'GET /v1/accounts/{account}/products/{product}/feeds/tauri/latest.json': {
    summary: "Tauri updater's static JSON: the newest release for the caller, one entry per platform key",
    responses: { '200': jsonBody(TAURI_STATIC, TAURI_STATIC_EXAMPLE) },
  },
  'GET /v1/accounts/{account}/engines/tauri/{product}': {
    summary: 'Tauri updater feed at Keygen\'s path',
    responses: { '200': jsonBody(TAURI_ANSWER) },
  },
  'GET /v1/accounts/{account}/products/{product}/feeds/velopack/{file}': {
    summary: 'Velopack feed (releases.<channel>.json) of the .nupkg packages for the caller',
    responses: { '200': jsonBody(VELOPACK_FEED, VELOPACK_EXAMPLE) },
  },
  'GET /v1/accounts/{account}/products/{product}/feeds/velopack/k/{key}/{file}': {
    summary: 'Velopack feed with the license key in the path',
    responses: { '200': jsonBody(VELOPACK_FEED, VELOPACK_EXAMPLE) },
  },
  'GET /v1/accounts/{account}/products/{product}/feeds/squirrel/RELEASES': {
    summary: 'Squirrel.Windows RELEASES file for the caller',
    responses: { '200': { contentType: 'text/plain', schema: { type: 'string' }, example: SQUIRREL_RELEASES } },
  },
  'GET /v1/accounts/{account}/products/{product}/feeds/squirrel/k/{key}/RELEASES': {
    summary: 'Squirrel.Windows RELEASES file with the license key in the path',
    responses: { '200': { contentType: 'text/plain', schema: { type: 'string' }, example: SQUIRREL_RELEASES } },
  },
  'GET /v1/accounts/{account}/products/{product}/feeds/sparkle/appcast.xml': {
    summary: 'Sparkle appcast of the newest macOS releases for the caller',
    responses: { '200': { contentType: 'application/rss+xml', schema: { type: 'string' }, example: APPCAST } },
  },

  // packages and their engines (docs/packages.md)
  'POST /v1/accounts/{account}/packages': { summary: 'Create a package of a product (admin, or the product\'s token)' },
  'GET /v1/accounts/{account}/packages': { summary: 'List packages (filters: product, engine)' },
  'GET /v1/accounts/{account}/packages/{id}': { summary: 'Read a package (by id or key)' },
  'PATCH /v1/accounts/{account}/packages/{id}': { summary: 'Change a package' },
  'DELETE /v1/accounts/{account}/packages/{id}': { summary: 'Delete a package (its releases stay, in no package)' },
  'GET /v1/accounts/{account}/packages/{id}/analytics/downloads': { summary: 'Downloads of each version of a package and of each of its files' },
  'GET /v1/accounts/{account}/engines/pypi/simple': {
    summary: 'PyPI simple index: the pypi packages the caller may install from (PEP 503 HTML or PEP 691 JSON)',
    responses: { '200': { contentType: 'text/html', schema: { type: 'string' }, example: SIMPLE_INDEX } },
  },
  'GET /v1/accounts/{account}/engines/pypi/simple/{name}': {
    summary: 'PyPI project page: every file the caller may install, with #sha256, data-requires-python and data-yanked',
    responses: { '200': { contentType: 'text/html', schema: { type: 'string' }, example: SIMPLE_PROJECT } },
  },
  'GET /v1/accounts/{account}/engines/pypi/files/{name}/{artifactId}/{filename}': { summary: 'A file of a PyPI project page: 303 to its signed download URL (counted)' },
  'GET /v1/accounts/{account}/engines/npm/{name}': { summary: 'npm packument of a package (scoped as @scope%2fname)', responses: { '200': jsonBody(PACKUMENT) } },
  'GET /v1/accounts/{account}/engines/npm/{scope}/{name}': { summary: 'npm packument of a scoped package (@scope/name)', responses: { '200': jsonBody(PACKUMENT) } },
  'GET /v1/accounts/{account}/engines/npm/{name}/-/{artifactId}/{filename}': { summary: 'npm tarball of a package version (counted as a download)', responses: { '200': FILE_BYTES } },
  'GET /v1/accounts/{account}/engines/npm/{scope}/{name}/-/{artifactId}/{filename}': { summary: 'npm tarball of a scoped package version (counted as a download)', responses: { '200': FILE_BYTES } },
  'GET /v1/accounts/{account}/engines/npm/-/{rest}': { summary: "npm's own routes (search, ping): 404, a read-only registry does not serve them" },
  'POST /v1/accounts/{account}/engines/npm/-/{rest}': { summary: "npm's audit routes (security advisories, quick audit): 404, npm install goes on without them" },
  'GET /v1/accounts/{account}/engines/raw/{product}/{release}/{filename}': { summary: 'A product\'s file by version, tag or latest: 303 to its signed download URL (counted)' },
  'GET /v1/accounts/{account}/engines/raw/{product}/{package}/{release}/{filename}': { summary: 'A package\'s file (package as @key) by version, tag or latest: 303 to its signed download URL (counted)' },

  // events, webhooks, analytics
  'GET /v1/accounts/{account}/events': { summary: 'List events (filters: type, resource, since; cursor pages)' },
  'GET /v1/accounts/{account}/events/{id}': { summary: 'Read an event' },
  'POST /v1/accounts/{account}/webhook-endpoints': { summary: 'Create a webhook endpoint (its signing secret is shown once)' },
  'GET /v1/accounts/{account}/webhook-endpoints': { summary: 'List webhook endpoints' },
  'GET /v1/accounts/{account}/webhook-endpoints/{id}': { summary: 'Read a webhook endpoint' },
  'PATCH /v1/accounts/{account}/webhook-endpoints/{id}': { summary: 'Change a webhook endpoint (url, events, enabled)' },
  'DELETE /v1/accounts/{account}/webhook-endpoints/{id}': { summary: 'Delete a webhook endpoint and its delivery log' },
  'POST /v1/accounts/{account}/webhook-endpoints/{id}/actions/rotate-secret': { summary: 'Rotate an endpoint\'s signing secret (the new one is shown once)' },
  'GET /v1/accounts/{account}/webhook-endpoints/{id}/webhook-deliveries': { summary: 'List an endpoint\'s deliveries' },
  'GET /v1/accounts/{account}/webhook-deliveries': { summary: 'List webhook deliveries (filters: endpoint, status, event)' },
  'GET /v1/accounts/{account}/webhook-deliveries/{id}': { summary: 'Read a webhook delivery' },
  'POST /v1/accounts/{account}/webhook-deliveries/{id}/actions/retry': { summary: 'Attempt a delivery again now' },
  'GET /v1/accounts/{account}/products/{product}/analytics/versions': { summary: 'Adoption: installs per version and the share on the latest release' },
  'GET /v1/accounts/{account}/products/{product}/analytics/adoption': { summary: 'Adoption over time: per day, the installs that checked, the latest release then and the share on it' },
  'GET /v1/accounts/{account}/products/{product}/analytics/downloads': { summary: 'Downloads and upgrades per day and version' },
};

/** Example values for properties that the schemas leave generic, by property name. */
const BY_NAME: Record<string, unknown> = {
  id: UUID,
  self: `${ACCOUNT_PATH}/releases/${UUID}`,
  related: `${ACCOUNT_PATH}/products/${UUID}`,
  first: `${ACCOUNT_PATH}/releases?page[number]=1&page[size]=10`,
  last: `${ACCOUNT_PATH}/releases?page[number]=3&page[size]=10`,
  prev: null,
  next: `${ACCOUNT_PATH}/releases?page[number]=2&page[size]=10`,
  redirect: `https://releases.example.com${ACCOUNT_PATH}/artifacts/${UUID}/acme-1.4.0.tar.gz?expires=1769864400&signature=3f6c2a9e0b7d41c58e2f9a6b1c0d7e4f`,
};

/**
 * An example of `schema`: its own examples, else one built from its parts. A request's example
 * holds write-only properties (a password), an answer's does not.
 */
export function exampleOf(schema: SchemaObject | undefined, components: Record<string, SchemaObject> = {}, request = false, name?: string, depth = 0): unknown {
  if (!schema || depth > 12) return null;
  const next = (s: SchemaObject | undefined, n?: string) => exampleOf(s, components, request, n, depth + 1);
  if (schema.$ref) return next(components[String(schema.$ref).split('/').pop()!], name);
  if (schema.example !== undefined) return schema.example;
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum.find((v: unknown) => v !== null) ?? schema.enum[0];
  const options = (schema.oneOf ?? schema.anyOf) as SchemaObject[] | undefined;
  if (options) return next(options.find((o) => o.type !== 'null') ?? options[0], name);
  if (name && name in BY_NAME) return BY_NAME[name];
  const type = Array.isArray(schema.type) ? schema.type.find((t: string) => t !== 'null') : schema.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries((schema.properties ?? {}) as Record<string, SchemaObject>)) {
        if (key === 'included' || (value.writeOnly && !request) || (value.readOnly && request)) continue;
        out[key] = next(value, key);
      }
      return out;
    }
    case 'array':
      return schema.items ? [next(schema.items as SchemaObject)] : [];
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return false;
    case 'string':
      if (schema.format === 'uuid') return UUID;
      if (schema.format === 'date-time') return TIME;
      if (schema.format === 'date') return TIME.slice(0, 10);
      if (schema.format === 'email') return 'admin@acme.test';
      if (schema.format === 'uri') return 'https://releases.example.com';
      return name ?? 'text';
    case 'null':
      return null;
    default:
      return null;
  }
}
