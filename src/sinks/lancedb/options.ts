/**
 * The LanceDB sinks' options: the `lancedb` section of the configuration (its schema, defaults with
 * units, and environment variables). config/schema.ts and config/env-bindings.ts include them.
 */
import { z } from 'zod';
import { bytes, type EnvBinding, int, tableName } from '../../core/option-fields.ts';

export const VECTOR_INDEX_TYPES = ['hnsw_sq', 'hnsw_pq', 'ivf_pq', 'none'] as const;
export type VectorIndexType = (typeof VECTOR_INDEX_TYPES)[number];
export const DISTANCE_TYPES = ['cosine', 'l2', 'dot'] as const;
export type DistanceType = (typeof DISTANCE_TYPES)[number];

export const lancedbOptions = z.object({
  /** A directory or an object-store URI. */
  uri: z.string().min(1).default('./data/lancedb'),
  variantsTable: tableName.default('variants'),
  embeddingsTable: tableName.default('embeddings'),
  /** Merge-inserts between two optimize() runs (compaction and version cleanup); 0 disables. */
  optimizeEveryWrites: int(0, 1_000_000).default(50),
  /** optimize() deletes table versions older than this. */
  versionRetentionMs: int(0, 30 * 24 * 3_600_000).default(600_000),
  /** Build the vector index once the embeddings table has this many rows; 0 disables. */
  indexMinRows: int(0, 1_000_000_000).default(100_000),
  indexType: z
    .enum(VECTOR_INDEX_TYPES, { error: `expected one of: ${VECTOR_INDEX_TYPES.join(', ')}` })
    .default('hnsw_sq'),
  /** LanceDB's index cache (btree and vector index pages); derived from the memory limit. */
  indexCacheBytes: bytes(1024 ** 2, 64 * 1024 ** 3).default(8 * 1024 ** 2),
  /** LanceDB's metadata cache (manifests, file metadata); derived from the memory limit. */
  metadataCacheBytes: bytes(1024 ** 2, 64 * 1024 ** 3).default(8 * 1024 ** 2),
});

export type LancedbOptions = z.infer<typeof lancedbOptions>;

export const LANCEDB_ENV: readonly EnvBinding[] = [
  { env: 'VARSTREAM_LANCEDB_URI', path: 'lancedb.uri', description: 'LanceDB directory or URI' },
  { env: 'VARSTREAM_LANCEDB_VARIANTS_TABLE', path: 'lancedb.variantsTable', description: 'Variants table' },
  {
    env: 'VARSTREAM_LANCEDB_EMBEDDINGS_TABLE',
    path: 'lancedb.embeddingsTable',
    description: 'Embeddings table',
  },
  {
    env: 'VARSTREAM_LANCEDB_OPTIMIZE_EVERY_WRITES',
    path: 'lancedb.optimizeEveryWrites',
    description: 'Writes between two compaction and cleanup runs (0: never)',
  },
  {
    env: 'VARSTREAM_LANCEDB_VERSION_RETENTION_MS',
    path: 'lancedb.versionRetentionMs',
    description: 'Table versions older than this are deleted',
  },
  {
    env: 'VARSTREAM_LANCEDB_INDEX_MIN_ROWS',
    path: 'lancedb.indexMinRows',
    description: 'Build the vector index at this many rows (0: never)',
  },
  { env: 'VARSTREAM_LANCEDB_INDEX_TYPE', path: 'lancedb.indexType', description: 'Vector index type' },
  {
    env: 'VARSTREAM_LANCEDB_INDEX_CACHE',
    path: 'lancedb.indexCacheBytes',
    description: "LanceDB's index cache (btree and vector index pages)",
  },
  {
    env: 'VARSTREAM_LANCEDB_METADATA_CACHE',
    path: 'lancedb.metadataCacheBytes',
    description: "LanceDB's metadata cache (manifests, file metadata)",
  },
];
