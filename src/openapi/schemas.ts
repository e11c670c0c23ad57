import { getMetadataStorage } from 'class-validator';
import type { BodySpec } from '../jsonapi/body.pipe';

/**
 * JSON Schemas of the JSON:API documents, built from what the code already declares: a body's
 * accepted attributes and relationships (its JsonApiBodyPipe spec), their types from the DTO's
 * class-validator rules, and a resource's attribute names from its serializer.
 */

/** A JSON Schema (OpenAPI 3.1 speaks JSON Schema 2020-12); @nestjs/swagger does not export its own type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SchemaObject = Record<string, any>;

/** class-validator rule names -> JSON Schema, for the rules the DTOs use. */
function propertySchema(dto: Function, property: string): SchemaObject {
  const rules = getMetadataStorage()
    .getTargetValidationMetadatas(dto, '', true, false)
    .filter((m) => m.propertyName === property);
  const schema: SchemaObject = {};
  let nullable = false;
  for (const rule of rules) {
    const name = rule.name ?? rule.type;
    const c = rule.constraints ?? [];
    if (rule.type === 'conditionalValidation') nullable = true;
    if (rule.each && name === 'isIn') {
      // a rule on each element of an array (IsIn(..., {each: true})): it describes the items
      schema.items = { type: 'string', enum: [...(c[0] as unknown[])] };
      continue;
    }
    switch (name) {
      case 'isString':
        schema.type = 'string';
        break;
      case 'isInt':
        schema.type = 'integer';
        break;
      case 'isNumber':
        schema.type = 'number';
        break;
      case 'isBoolean':
        schema.type = 'boolean';
        break;
      case 'isIn':
        schema.enum = [...(c[0] as unknown[])];
        break;
      case 'isEmail':
        schema.type = 'string';
        schema.format = 'email';
        break;
      case 'isUuid':
      case 'isUUID':
        schema.type = 'string';
        schema.format = 'uuid';
        break;
      case 'isDateString':
      case 'isISO8601':
      case 'isTimestamp':
        schema.type = 'string';
        schema.format = 'date-time';
        break;
      case 'isArray':
        schema.type = 'array';
        break;
      case 'isObject':
      case 'isMetadata':
        schema.type = 'object';
        break;
      case 'maxLength':
        schema.maxLength = c[0] as number;
        break;
      case 'minLength':
        schema.minLength = c[0] as number;
        break;
      case 'min':
        schema.minimum = c[0] as number;
        break;
      case 'max':
        schema.maximum = c[0] as number;
        break;
    }
  }
  // OpenAPI 3.1 (JSON Schema 2020-12): an optional attribute that may be cleared accepts null
  if (nullable && typeof schema.type === 'string') (schema as { type: unknown }).type = [schema.type, 'null'];
  return schema;
}

function required(dto: Function, property: string): boolean {
  const rules = getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false).filter((m) => m.propertyName === property);
  return rules.length > 0 && !rules.some((r) => r.type === 'conditionalValidation');
}

const linkageSchema = (type: string): SchemaObject => ({
  type: 'object',
  required: ['type', 'id'],
  properties: { type: { type: 'string', enum: [type] }, id: { type: 'string', format: 'uuid' } },
});

/** The request document a JsonApiBodyPipe accepts. */
export function requestDocumentSchema(spec: BodySpec<object>): SchemaObject {
  const attributes: Record<string, SchemaObject> = {};
  const requiredAttributes: string[] = [];
  for (const name of spec.attributes) {
    attributes[name] = propertySchema(spec.dto, name);
    if (!spec.partial && required(spec.dto, name)) requiredAttributes.push(name);
  }
  const relationships: Record<string, SchemaObject> = {};
  for (const [name, rel] of Object.entries(spec.relationships ?? {})) {
    const data = rel.embedded
      ? { type: 'array', items: { type: 'object', properties: { type: { type: 'string', enum: [rel.type] }, attributes: { type: 'object' } } } }
      : rel.many
        ? { type: 'array', items: linkageSchema(rel.type) }
        : { oneOf: [linkageSchema(rel.type), { type: 'null' }] };
    relationships[name] = { type: 'object', required: ['data'], properties: { data: data as SchemaObject } };
  }
  const data: SchemaObject = {
    type: 'object',
    required: ['type', ...(Object.keys(attributes).length && requiredAttributes.length ? ['attributes'] : [])],
    properties: {
      type: { type: 'string', enum: [spec.type] },
      ...(spec.partial ? { id: { type: 'string', format: 'uuid' } } : {}),
      attributes: { type: 'object', additionalProperties: false, properties: attributes, ...(requiredAttributes.length ? { required: requiredAttributes } : {}) },
      ...(Object.keys(relationships).length ? { relationships: { type: 'object', properties: relationships } } : {}),
    },
  };
  return { type: 'object', required: ['data'], properties: { data } };
}

export interface ResourceShape {
  type: string;
  attributeNames: readonly string[];
}

/** A resource object as the serializer writes it. */
export function resourceSchema(def: ResourceShape): SchemaObject {
  return {
    type: 'object',
    required: ['id', 'type', 'attributes'],
    properties: {
      id: { type: 'string', format: 'uuid' },
      type: { type: 'string', enum: [def.type] },
      attributes: { type: 'object', properties: Object.fromEntries(def.attributeNames.map((n) => [n, {}])) },
      relationships: { type: 'object', additionalProperties: { type: 'object', properties: { data: {}, links: { type: 'object' } } } },
      links: { type: 'object', properties: { self: { type: 'string' } } },
    },
  };
}

const PAGE_LINKS: SchemaObject = {
  type: 'object',
  properties: {
    ...Object.fromEntries(['self', 'first', 'prev', 'next', 'last'].map((k) => [k, { type: ['string', 'null'] } as SchemaObject])),
    meta: { type: 'object', description: 'The page counts again, where Keygen clients read them', properties: { pages: { type: 'integer' }, count: { type: 'integer' } } },
  },
};

export function singleDocumentSchema(def: ResourceShape): SchemaObject {
  return { type: 'object', required: ['data'], properties: { data: resourceSchema(def), included: { type: 'array', items: { type: 'object' } }, meta: { type: 'object' } } };
}

export function listDocumentSchema(def: ResourceShape): SchemaObject {
  return {
    type: 'object',
    required: ['data'],
    properties: {
      data: { type: 'array', items: resourceSchema(def) },
      included: { type: 'array', items: { type: 'object' } },
      links: PAGE_LINKS,
      meta: { type: 'object', properties: { count: { type: 'integer' }, pages: { type: 'integer' }, countEstimated: { type: 'boolean' } } },
    },
  };
}

/** Every JSON:API error answer: `{errors: [...], meta: {id}}`. */
export const ERROR_DOCUMENT: SchemaObject = {
  type: 'object',
  required: ['errors'],
  properties: {
    errors: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['status', 'code', 'title'],
        properties: {
          status: { type: 'string', examples: ['422'] },
          code: { type: 'string', examples: ['VERSION_INVALID'] },
          title: { type: 'string' },
          detail: { type: 'string' },
          source: {
            type: 'object',
            properties: { pointer: { type: 'string', examples: ['/data/attributes/version'] }, parameter: { type: 'string' }, header: { type: 'string' } },
          },
        },
      },
    },
    meta: { type: 'object', properties: { id: { type: 'string', description: 'the request id, also sent as X-Request-Id' } } },
  },
};

/** Errors of the Cryptlex-compatible /v3 routes: `{code, message}`. */
export const V3_ERROR: SchemaObject = {
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'string' }, message: { type: 'string' } },
};
