import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiQuery, ApiResponse } from '@nestjs/swagger';
import type { JsonApiBodyPipe } from '../jsonapi/body.pipe';
import { listDocumentSchema, requestDocumentSchema, ResourceShape, singleDocumentSchema } from './schemas';

/** The request body a route reads through `pipe` (the same spec that validates it). */
export const ApiJsonApiBody = (pipe: JsonApiBodyPipe<object>, description?: string) =>
  ApiBody({ schema: requestDocumentSchema(pipe.spec), description });

/** What a route answers: one resource (200), a created one (201 + Location), or a page of them. */
export function ApiDocument(def: ResourceShape, kind: 'single' | 'list' | 'created' = 'single') {
  if (kind === 'list') return ApiResponse({ status: 200, description: `A page of ${def.type}`, schema: listDocumentSchema(def) });
  if (kind === 'created') {
    return ApiResponse({
      status: 201,
      description: `The created ${def.type.replace(/s$/, '')}`,
      schema: singleDocumentSchema(def),
      headers: { Location: { description: 'URL of the new resource', schema: { type: 'string' } } },
    });
  }
  return ApiResponse({ status: 200, description: `One ${def.type.replace(/s$/, '')}`, schema: singleDocumentSchema(def) });
}

export const ApiNoContent = (description = 'Done; no body') => ApiResponse({ status: 204, description });

/** The JSON:API list parameters (pages, cursor, sort, include, sparse fieldsets) and a route's filters. */
export function ApiListQuery(options: { sort?: readonly string[]; include?: Iterable<string>; filters?: readonly string[] } = {}) {
  const q = (name: string, description: string, schema: object) => ApiQuery({ name, required: false, description, schema });
  return applyDecorators(
    q('page[number]', 'Page number (>= 1)', { type: 'integer', minimum: 1 }),
    q('page[size]', 'Page size (1..100, default 10)', { type: 'integer', minimum: 1, maximum: 100 }),
    q('page[cursor]', 'Keyset pagination: the id of the last resource of the previous page (empty: first page)', { type: 'string' }),
    q('limit', 'Page size, Keygen style (1..100)', { type: 'integer', minimum: 1, maximum: 100 }),
    q('sort', `Sort field, \`-\` for descending${options.sort ? ` (${[...options.sort].join(', ')})` : ''}`, { type: 'string' }),
    q('order', 'Keygen style: asc or desc by created', { type: 'string', enum: ['asc', 'desc'] }),
    ...(options.include ? [q('include', `Related resources to include (${[...options.include].join(', ')})`, { type: 'string' })] : []),
    ...(options.filters ?? []).map((name) => q(name, `Filter by ${name}`, { type: 'string' })),
  );
}

/** The single-resource query parameters (include, sparse fieldsets). */
export const ApiInclude = (include: Iterable<string>) =>
  ApiQuery({ name: 'include', required: false, description: `Related resources to include (${[...include].join(', ')})`, schema: { type: 'string' } });

/** Query parameters a route reads itself (`name` -> description; a trailing `!` marks a required one). */
export function ApiQueryParams(params: Record<string, string>) {
  return applyDecorators(
    ...Object.entries(params).map(([key, description]) =>
      ApiQuery({ name: key.replace(/!$/, ''), required: key.endsWith('!'), description, schema: { type: 'string' } }),
    ),
  );
}

/** A to-many linkage body: `{data: [{type, id}, ...]}`. */
export const ApiLinkageBody = (type: string) =>
  ApiBody({
    schema: {
      type: 'object',
      required: ['data'],
      properties: {
        data: {
          type: 'array',
          items: { type: 'object', required: ['type', 'id'], properties: { type: { type: 'string', enum: [type] }, id: { type: 'string', format: 'uuid' } } },
        },
      },
    },
  });

/** A plain response (health, metrics, /v3). */
export const ApiAnswer = (status: number, description: string, contentType?: string, schema?: object) =>
  ApiResponse({ status, description, ...(contentType ? { content: { [contentType]: { schema: schema ?? { type: 'object' } } } } : {}) });
