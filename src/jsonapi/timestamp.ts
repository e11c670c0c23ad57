import { ValidateBy, ValidationOptions } from 'class-validator';

/** RFC 3339: a calendar date, optionally with a time and an offset (no ISO week or ordinal dates). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:?\d{2})?)?$/;

/** A timestamp JavaScript and PostgreSQL both read the same way (ISO week dates pass ISO 8601 but not Date). */
export function isTimestamp(value: unknown): boolean {
  if (typeof value !== 'string' || !RFC3339.test(value) || Number.isNaN(Date.parse(value))) return false;
  // Date rolls 2030-02-30 over to March; PostgreSQL refuses it
  const [y, m, d] = value.slice(0, 10).split('-').map(Number);
  const day = new Date(Date.UTC(y, m - 1, d));
  return day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}

export function IsTimestamp(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy({ name: 'isTimestamp', validator: { validate: isTimestamp, defaultMessage: () => 'must be an ISO 8601 timestamp' } }, options);
}
