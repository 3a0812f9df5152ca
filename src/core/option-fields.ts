/**
 * The building blocks of every option schema: the configuration's own (config/schema.ts) and each
 * sink's (sinks/<name>/options.ts). Each accepted-values message is what a bad value's error says.
 */
import { z } from 'zod';
import { parseBytes } from './units.ts';

/** A byte size (`16Mi`, `512MiB`, `1G` or plain bytes) between `min` and `max` bytes. */
export const bytes = (min: number, max: number) =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    const parsed = parseBytes(value);
    if (parsed === undefined || parsed < min || parsed > max) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a byte size between ${min} and ${max} bytes, e.g. 16Mi, 512MiB, 1048576`,
      });
      return z.NEVER;
    }
    return parsed;
  });

/** An integer between `min` and `max` (a string of one too, as environment variables are). */
export const int = (min: number, max: number) =>
  z.coerce
    .number({ error: `expected an integer between ${min} and ${max}` })
    .int({ error: `expected an integer between ${min} and ${max}` })
    .min(min, { error: `expected an integer between ${min} and ${max}` })
    .max(max, { error: `expected an integer between ${min} and ${max}` });

/** Table names reach file paths: a letter or `_`, then letters, digits or `_`. */
export const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export const tableName = z
  .string()
  .regex(TABLE_NAME, { error: 'expected a table name: a letter or "_", then letters, digits or "_"' });

/** One environment variable, the configuration field it sets (a dotted path) and what it means. */
export interface EnvBinding {
  env: string;
  path: string;
  description: string;
  secret?: boolean;
}
