/**
 * The Kuzu sink's options: the `kuzu` section of the configuration (its schema, defaults with
 * units, and environment variables). config/schema.ts and config/env-bindings.ts include them.
 */
import { z } from 'zod';
import { bytes, type EnvBinding } from '../../core/option-fields.ts';

export const kuzuOptions = z.object({
  /** The database path (Kuzu creates it). Its parent directory also holds the staging files. */
  path: z.string().min(1).default('./data/kuzu/graph.kuzu'),
  // Schema v2 needs at least 32 MiB: its nine variant tables each keep key-index pages in the pool.
  bufferPoolBytes: bytes(32 * 1024 ** 2, 64 * 1024 ** 3).default(256 * 1024 ** 2),
});

export type KuzuOptions = z.infer<typeof kuzuOptions>;

export const KUZU_ENV: readonly EnvBinding[] = [
  { env: 'VARSTREAM_KUZU_PATH', path: 'kuzu.path', description: 'Kuzu database path' },
  { env: 'VARSTREAM_KUZU_BUFFER_POOL', path: 'kuzu.bufferPoolBytes', description: "Kuzu's buffer pool size" },
];
