import { ValueTransformer } from 'typeorm';

/** PostgreSQL bigint arrives as a string; our counters and sizes fit in a JS number. */
export const bigintAsNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null || value === undefined ? value : Number(value)),
};

/** A user-supplied JSON object (jsonb). `any` values keep TypeORM's partial-update types usable. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Metadata = Record<string, any>;
