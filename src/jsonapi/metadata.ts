import { ValidateBy, ValidationOptions } from 'class-validator';
import { isPlainObject } from './document';

export const METADATA_MAX_BYTES = 16 * 1024;
export const METADATA_MAX_DEPTH = 4;


/** Nesting depth of a JSON value: `{}` is 1, `{a: {}}` is 2; arrays count as a level too. */
export function jsonDepth(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(jsonDepth));
  if (isPlainObject(value)) return 1 + Math.max(0, ...Object.values(value).map(jsonDepth));
  return 0;
}

/** Why a metadata value is unacceptable, or null when it is a JSON object within the limits. */
export function metadataProblem(value: unknown): string | null {
  if (!isPlainObject(value)) return 'must be an object';
  if (Buffer.byteLength(JSON.stringify(value), 'utf8') > METADATA_MAX_BYTES) return `must be at most ${METADATA_MAX_BYTES} bytes of JSON`;
  if (jsonDepth(value) > METADATA_MAX_DEPTH) return `must be nested at most ${METADATA_MAX_DEPTH} levels deep`;
  return null;
}

/** `metadata`: a JSON object of at most 16 KiB, nested at most 4 levels (-> 422 METADATA_INVALID). */
export function IsMetadata(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isMetadata',
      validator: {
        validate: (value: unknown) => metadataProblem(value) === null,
        defaultMessage: (args) => metadataProblem(args?.value) ?? 'must be an object',
      },
    },
    options,
  );
}
