import { ValueTransformer } from 'typeorm';

/** PostgreSQL bigint arrives as a string; our counters and sizes fit in a JS number. */
export const bigintAsNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null || value === undefined ? value : Number(value)),
};
