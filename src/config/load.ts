/**
 * Loads the configuration: defaults, then an optional JSON file (VARSTREAM_CONFIG), then
 * environment variables, then explicit overrides (CLI flags, tests). Validated once; an invalid
 * value fails start with an error naming the field, its environment variable and what is accepted.
 */
import { readFileSync } from 'node:fs';
import {
  deriveBudget,
  type LimitSource,
  type MemoryBudget,
  resolveLimit,
} from '../backpressure/memory-budget.ts';
import { type Config, type ConfigInput, configSchema } from './schema.ts';

export interface EnvBinding {
  env: string;
  path: string;
  description: string;
  secret?: boolean;
}

/** Every environment variable varstream reads, and the field it sets. */
export const ENV_BINDINGS: readonly EnvBinding[] = [
  { env: 'KAFKA_BROKERS', path: 'kafka.brokers', description: 'Comma-separated host:port list' },
  { env: 'KAFKA_CLIENT_ID', path: 'kafka.clientId', description: 'Kafka client id' },
  { env: 'VARSTREAM_GROUP_ID', path: 'kafka.groupId', description: 'Consumer group id' },
  { env: 'VARSTREAM_FETCH_MAX_BYTES', path: 'kafka.fetchMaxBytes', description: 'Max bytes of one fetch' },
  {
    env: 'VARSTREAM_FETCH_MAX_BYTES_PER_PARTITION',
    path: 'kafka.fetchMaxBytesPerPartition',
    description: "Max bytes of one partition's share of a fetch",
  },
  {
    env: 'VARSTREAM_FETCH_MAX_WAIT_MS',
    path: 'kafka.fetchMaxWaitMs',
    description: 'Longest wait of one fetch',
  },
  {
    env: 'VARSTREAM_MAX_MESSAGE_BYTES',
    path: 'kafka.maxMessageBytes',
    description: 'Larger messages are dead-lettered',
  },
  {
    env: 'VARSTREAM_SESSION_TIMEOUT_MS',
    path: 'kafka.sessionTimeoutMs',
    description: 'Group session timeout',
  },
  {
    env: 'VARSTREAM_TOPIC_PARTITIONS',
    path: 'kafka.topicPartitions',
    description: 'Partitions of created topics',
  },
  { env: 'VARSTREAM_TOPIC_VARIANTS', path: 'topics.variants', description: 'Variants topic' },
  { env: 'VARSTREAM_TOPIC_EMBEDDINGS', path: 'topics.embeddings', description: 'Embeddings topic' },
  { env: 'VARSTREAM_TOPIC_DEAD_LETTER', path: 'topics.deadLetter', description: 'Dead-letter topic' },
  { env: 'VARSTREAM_PIPELINES', path: 'pipelines', description: 'Pipelines this process runs' },
  { env: 'VARSTREAM_VARIANT_SINKS', path: 'variants.sinks', description: 'Sinks of the variant pipeline' },
  {
    env: 'VARSTREAM_EMBEDDING_DIM',
    path: 'embeddings.dim',
    description: "Vector dimension (unset: the table's, or 1536 for a new table)",
  },
  {
    env: 'VARSTREAM_EMBEDDING_DISTANCE',
    path: 'embeddings.distance',
    description: 'Distance of the vector index and of `query similar`',
  },
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
  { env: 'VARSTREAM_KUZU_PATH', path: 'kuzu.path', description: 'Kuzu database path' },
  { env: 'VARSTREAM_KUZU_BUFFER_POOL', path: 'kuzu.bufferPoolBytes', description: "Kuzu's buffer pool size" },
  { env: 'VARSTREAM_BATCH_MAX_ROWS', path: 'batch.maxRows', description: 'Flush after this many messages' },
  { env: 'VARSTREAM_BATCH_MAX_BYTES', path: 'batch.maxBytes', description: 'Flush after this many bytes' },
  { env: 'VARSTREAM_BATCH_LINGER_MS', path: 'batch.lingerMs', description: 'Flush a non-empty batch after' },
  { env: 'VARSTREAM_BATCH_MAX_IN_FLIGHT', path: 'batch.maxInFlight', description: 'Batches written at once' },
  {
    env: 'VARSTREAM_BATCH_ADAPTIVE',
    path: 'batch.adaptive',
    description: 'Adapt batch size to write speed and memory (AIMD)',
  },
  { env: 'VARSTREAM_SINK_RETRY_INITIAL_MS', path: 'sink.retryInitialMs', description: 'First retry delay' },
  { env: 'VARSTREAM_SINK_RETRY_MAX_MS', path: 'sink.retryMaxMs', description: 'Longest retry delay' },
  {
    env: 'VARSTREAM_MEMORY_LIMIT',
    path: 'memory.limitBytes',
    description: 'The memory limit every buffer size derives from (unset: the cgroup limit, else 1Gi)',
  },
  {
    env: 'VARSTREAM_MEMORY_SAMPLE_MS',
    path: 'memory.sampleIntervalMs',
    description: 'Memory monitor sampling interval',
  },
  {
    env: 'VARSTREAM_SHUTDOWN_GRACE_MS',
    path: 'shutdownGraceMs',
    description: 'Time allowed for a clean stop',
  },
  { env: 'LOG_LEVEL', path: 'logLevel', description: 'Log level' },
  {
    env: 'VARSTREAM_TEST_SINK_DELAY_MS',
    path: 'testing.sinkDelayMs',
    description: 'Test only: every sink write waits this long first',
  },
  {
    env: 'VARSTREAM_TEST_SINK_BALLAST',
    path: 'testing.sinkBallastBytes',
    description: 'Test only: every delayed sink write holds this many bytes meanwhile',
  },
];

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Explicit settings (CLI flags, tests): any subset of any section. */
export type ConfigOverrides = {
  [K in keyof ConfigInput]?: ConfigInput[K] extends object ? Partial<ConfigInput[K]> : ConfigInput[K];
};

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  overrides?: ConfigOverrides;
  /** Replaces the cgroup reading (tests). */
  readCgroup?: () => { bytes: number; source: LimitSource } | undefined;
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const raw: Record<string, unknown> = emptySections();
  const file = env.VARSTREAM_CONFIG;
  if (file) deepMerge(raw, readConfigFile(file));
  for (const binding of ENV_BINDINGS) {
    const value = env[binding.env];
    if (value !== undefined && value !== '') setPath(raw, binding.path, value);
  }
  if (options.overrides) deepMerge(raw, options.overrides as Record<string, unknown>);
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => describeIssue(issue, raw)));
  }
  return applyMemoryBudget(result.data, raw, options.readCgroup);
}

/** Sizes derived from the memory limit, for the fields no source set explicitly. */
export const DERIVED_FIELDS = {
  'kafka.fetchMaxBytes': 'fetchMaxBytes',
  'kafka.fetchMaxBytesPerPartition': 'fetchMaxBytesPerPartition',
  'batch.maxBytes': 'batchMaxBytes',
  'batch.maxInFlight': 'maxInFlight',
  'kuzu.bufferPoolBytes': 'kuzuBufferPoolBytes',
  'lancedb.indexCacheBytes': 'lancedbIndexCacheBytes',
  'lancedb.metadataCacheBytes': 'lancedbMetadataCacheBytes',
} as const satisfies Record<string, keyof MemoryBudget>;

function applyMemoryBudget(
  config: Config,
  raw: Record<string, unknown>,
  readCgroup?: LoadOptions['readCgroup'],
): Config {
  const limit = resolveLimit(config.memory.limitBytes, readCgroup);
  const budget = deriveBudget(limit.bytes, limit.source);
  for (const [path, key] of Object.entries(DERIVED_FIELDS)) {
    if (getPath(raw, path) === undefined)
      setPath(config as unknown as Record<string, unknown>, path, budget[key]);
  }
  return { ...config, memoryBudget: budget };
}

/** The effective configuration as a flat list for the start-up log, secrets redacted. */
export function describeConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const binding of ENV_BINDINGS) {
    const value = getPath(config as unknown as Record<string, unknown>, binding.path);
    out[binding.path] = binding.secret ? '<redacted>' : value;
  }
  return out;
}

function describeIssue(
  issue: { path: PropertyKey[]; message: string },
  raw: Record<string, unknown>,
): string {
  const path = issue.path.filter((p) => typeof p === 'string').join('.');
  const binding = ENV_BINDINGS.find((b) => b.path === path);
  const value = getPath(raw, path);
  const shown = value === undefined ? '' : ` = ${JSON.stringify(value)}`;
  const via = binding ? ` (env ${binding.env})` : '';
  return `${path}${via}${shown}: ${issue.message}`;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([
      `VARSTREAM_CONFIG = ${JSON.stringify(file)}: cannot read: ${(error as Error).message}`,
    ]);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('not a JSON object');
    return parsed as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError([`VARSTREAM_CONFIG = ${JSON.stringify(file)}: ${(error as Error).message}`]);
  }
}

function emptySections(): Record<string, unknown> {
  return {
    kafka: {},
    topics: {},
    variants: {},
    embeddings: {},
    lancedb: {},
    kuzu: {},
    batch: {},
    sink: {},
    memory: {},
    testing: {},
  };
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1] as string] = value;
}

function getPath(source: Record<string, unknown>, path: string): unknown {
  let node: unknown = source;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    if (isPlainObject(value) && isPlainObject(existing)) deepMerge(existing, value);
    else if (value !== undefined) target[key] = value;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
