import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ATTRIBUTES, exampleOf, OPERATIONS, RELATIONSHIP_DATA } from './reference';
import { ERROR_DOCUMENT, SchemaObject, V3_ERROR } from './schemas';

type PathItemObject = OpenAPIObject['paths'][string];
type OperationObject = NonNullable<PathItemObject['get']>;
type ParameterObject = { name: string; in: string; description?: string };

const JSONAPI = 'application/vnd.api+json';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** What the path parameters mean (the route templates only name them). */
const PATH_PARAMS: Record<string, string> = {
  account: 'Account id (UUID) or slug',
  id: 'Resource id (UUID); releases also accept their filename',
  release: 'Release id (UUID)',
  releaseId: 'Release id (UUID)',
  artifactId: 'Artifact id (UUID)',
  filename: 'The artifact file name (may contain slashes)',
};

const SECURITY_SCHEMES = ['bearer', 'license', 'basic', 'keyQuery', 'tokenQuery'];

/**
 * The OpenAPI 3.1 document of every route, generated from the controllers' decorators (routes,
 * parameters, bodies and responses), then completed with what holds for every route alike: path
 * parameters, the error document, the credential schemes, the JSON:API media type.
 */
export function buildOpenApiDocument(app: INestApplication, publicUrl: string): OpenAPIObject {
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('Shipgate')
    .setDescription(
      'A self-hostable, multi-tenant server that distributes software releases to licensed customers. ' +
        'Tenant resources live under `/v1/accounts/{account}` and speak JSON:API (`application/vnd.api+json`); ' +
        '`/v3` answers Cryptlex-style update checks. Every error is `{errors: [{status, code, title, detail?, source?}], meta: {id}}` ' +
        '(`{code, message}` on `/v3`), and every response carries the request id as `X-Request-Id`.',
    )
    .setVersion('1')
    .addServer(publicUrl)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'A user, admin or product token; the operator\'s ROOT_TOKEN for creating accounts; METRICS_TOKEN for /metrics' }, 'bearer')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'Authorization', description: 'A license key sent as `Authorization: License <key>`' }, 'license')
    .addBasicAuth({ type: 'http', scheme: 'basic', description: 'email:password (to create a token), `license:<key>` or `token:<token>`' }, 'basic')
    .addApiKey({ type: 'apiKey', in: 'query', name: 'key', description: 'A license key as `?key=` (also `?auth=license:<key>`)' }, 'keyQuery')
    .addApiKey({ type: 'apiKey', in: 'query', name: 'token', description: 'A token as `?token=` (also `?auth=token:<token>`)' }, 'tokenQuery')
    .build();
  const document = SwaggerModule.createDocument(app, config, { operationIdFactory: (controller, method) => `${controller.replace(/Controller$/, '')}_${method}` });
  complete(document);
  return document;
}

function complete(document: OpenAPIObject): void {
  document.components ??= {};
  document.components.schemas = { ...(document.components.schemas ?? {}), ErrorDocument: ERROR_DOCUMENT, V3Error: V3_ERROR };
  for (const [path, item] of Object.entries(document.paths) as [string, PathItemObject][]) {
    const v3 = path.startsWith('/v3');
    const v1 = path.startsWith('/v1');
    for (const method of METHODS) {
      const op = item[method] as (OperationObject & { 'x-anonymous'?: boolean }) | undefined;
      if (!op) continue;
      addPathParameters(path, op);
      const anonymous = op['x-anonymous'] === true;
      delete op['x-anonymous'];
      if (path === '/metrics') op.security = [{ bearer: [] }, {}];
      else if (path.startsWith('/health')) op.security = [{}];
      else op.security = [...SECURITY_SCHEMES.map((s) => ({ [s]: [] })), ...(anonymous ? [{}] : [])];
      if (v1) jsonApiMediaType(op);
      op.responses ??= {};
      op.responses.default = {
        description: v3 ? 'An error, as `{code, message}`' : 'An error (JSON:API error document); 500 is always a bug',
        content: { [v3 ? 'application/json' : JSONAPI]: { schema: { $ref: `#/components/schemas/${v3 ? 'V3Error' : 'ErrorDocument'}` } } },
      };
    }
  }
  // the document itself and its reference page
  document.paths['/openapi.json'] = {
    get: {
      operationId: 'OpenApi_document',
      summary: 'This OpenAPI 3.1 document',
      tags: ['operations'],
      security: [{}],
      responses: { '200': { description: 'The OpenAPI document', content: { 'application/json': { schema: { type: 'object' } } } } },
    },
  };
  document.paths['/docs'] = {
    get: {
      operationId: 'OpenApi_page',
      summary: 'The API reference page rendered from /openapi.json (assets served locally)',
      tags: ['operations'],
      security: [{}],
      responses: { '200': { description: 'An HTML page', content: { 'text/html': { schema: { type: 'string' } } } } },
    },
  };
  applyReference(document);
}

type MediaObject = { schema?: SchemaObject; example?: unknown; examples?: unknown };
type BodyObject = { description?: string; required?: boolean; content?: Record<string, MediaObject> };

/**
 * The reference's own words (src/openapi/reference.ts): a summary per operation, the bodies the
 * decorators leave vague, a typed schema with an example per resource attribute, and an example
 * of every request and response body.
 */
function applyReference(document: OpenAPIObject): void {
  const components = (document.components?.schemas ?? {}) as Record<string, SchemaObject>;
  for (const schema of Object.values(components)) typeResources(schema);
  for (const [path, item] of Object.entries(document.paths) as [string, PathItemObject][]) {
    for (const method of METHODS) {
      const op = item[method] as (OperationObject & { requestBody?: BodyObject; responses: Record<string, BodyObject> }) | undefined;
      if (!op) continue;
      const doc = OPERATIONS[`${method.toUpperCase()} ${path}`];
      if (doc) {
        op.summary = doc.summary;
        if (doc.requestBody) {
          const { contentType, schema, example, description, required } = doc.requestBody;
          op.requestBody = { required: required ?? true, ...(description ? { description } : {}), content: { [contentType]: { schema, ...(example !== undefined ? { example } : {}) } } };
        }
        for (const [status, body] of Object.entries(doc.responses ?? {})) {
          const response = (op.responses[status] ??= { description: 'OK' });
          response.content = { [body.contentType]: { schema: body.schema, ...(body.example !== undefined ? { example: body.example } : {}) } };
        }
      }
      const bodies: [BodyObject | undefined, boolean][] = [[op.requestBody, true], ...Object.values(op.responses ?? {}).map((r): [BodyObject, boolean] => [r, false])];
      for (const [body, request] of bodies) {
        for (const media of Object.values(body?.content ?? {})) {
          if (media.schema) typeResources(media.schema);
          if (media.example === undefined && media.examples === undefined) {
            media.example = request && doc?.requestExample !== undefined ? doc.requestExample : exampleOf(media.schema, components, request);
          }
        }
      }
    }
  }
}

/** Gives every resource object in `schema` its attributes' schemas (ATTRIBUTES) and typed relationship linkage. */
function typeResources(schema: SchemaObject, depth = 0): void {
  if (!schema || typeof schema !== 'object' || depth > 20) return;
  const props = schema.properties as Record<string, SchemaObject> | undefined;
  const type = props?.type?.enum?.[0] as string | undefined;
  const attributes = props?.attributes?.properties as Record<string, SchemaObject> | undefined;
  if (type && attributes) {
    const table = ATTRIBUTES[type] ?? {};
    for (const [name, attribute] of Object.entries(attributes)) {
      const known = table[name];
      if (!known) continue; // left as it is: the OpenAPI test names what the table lacks
      if (Object.keys(attribute).length === 0) attributes[name] = known;
      else if (attribute.examples === undefined && known.examples !== undefined) attribute.examples = known.examples;
    }
  }
  const relationship = props?.relationships?.additionalProperties as SchemaObject | undefined;
  if (relationship?.properties?.data && Object.keys(relationship.properties.data).length === 0) relationship.properties.data = RELATIONSHIP_DATA;
  for (const key of ['properties', 'patternProperties', '$defs']) {
    for (const child of Object.values((schema[key] ?? {}) as Record<string, SchemaObject>)) typeResources(child, depth + 1);
  }
  for (const key of ['items', 'additionalProperties', 'not']) if (schema[key] && typeof schema[key] === 'object') typeResources(schema[key], depth + 1);
  for (const key of ['oneOf', 'anyOf', 'allOf', 'prefixItems']) for (const child of (schema[key] ?? []) as SchemaObject[]) typeResources(child, depth + 1);
}

function addPathParameters(path: string, op: OperationObject): void {
  op.parameters ??= [];
  const declared = new Set((op.parameters as ParameterObject[]).filter((p) => p.in === 'path').map((p) => p.name));
  for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
    if (declared.has(name)) continue;
    op.parameters.unshift({ name, in: 'path', required: true, description: PATH_PARAMS[name], schema: { type: 'string' } });
  }
  for (const p of op.parameters as ParameterObject[]) {
    if (p.in === 'path') p.description ??= PATH_PARAMS[p.name];
  }
}

/** Requests accept both JSON:API's media type and application/json; responses are JSON:API. */
function jsonApiMediaType(op: OperationObject): void {
  const body = op.requestBody as { content?: Record<string, { schema?: SchemaObject }> } | undefined;
  if (body?.content?.['application/json']) body.content[JSONAPI] = body.content['application/json'];
  for (const response of Object.values(op.responses ?? {}) as { content?: Record<string, unknown> }[]) {
    if (response.content?.['application/json']) {
      response.content[JSONAPI] = response.content['application/json'];
      delete response.content['application/json'];
    }
  }
}

/** Serves the document at /openapi.json and the reference page at /docs (swagger-ui-dist, no CDN). */
export function serveOpenApi(app: INestApplication, document: OpenAPIObject): void {
  const router = (app.getHttpAdapter().getInstance() as { router: { stack: unknown[] } }).router;
  const before = router.stack.length;
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'openapi.json',
    raw: ['json'],
    customSiteTitle: 'Shipgate API reference',
    swaggerOptions: { validatorUrl: null, tryItOutEnabled: false, defaultModelsExpandDepth: -1 },
  });
  // the reference's eight routes sit in front of every API route: behind one layer, a request to
  // the API (an update check) walks past one path test instead of eight
  const docs = express.Router();
  (docs as unknown as { stack: unknown[] }).stack.push(...router.stack.splice(before));
  const reference = (req: Request, res: Response, next: NextFunction) => (req.url.startsWith('/docs') || req.url.startsWith('/openapi.json') ? docs(req, res, next) : next());
  // its routes stay visible to whoever lists the router's (the OpenAPI test), as a mounted router's are
  app.use(Object.assign(reference, { stack: (docs as unknown as { stack: unknown[] }).stack }));
}
