/**
 * The one configuration schema of varstream. Every setting has a default (units in the name or
 * the comment), a validation rule, and an environment variable (see ENV_BINDINGS in env.ts).
 */
import { z } from 'zod';
import type { MemoryBudget } from '../backpressure/memory-budget.ts';
import { DEFAULT_VARIANT_LIMITS } from '../contract/limits.ts';
import { bytes, int } from '../core/option-fields.ts';
import { kuzuOptions } from '../sinks/kuzu/options.ts';
import { DISTANCE_TYPES, lancedbOptions } from '../sinks/lancedb/options.ts';
import { EMBEDDING_SINKS, VARIANT_SINKS } from '../sinks/names.ts';

/** Names that reach file paths, table names or Kafka: letters, digits, `.`, `_`, `-`. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

const topicName = z
  .string()
  .regex(SAFE_NAME, { error: 'expected a Kafka topic name: letters, digits, ".", "_" or "-"' });

const brokerList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) =>
    (Array.isArray(value) ? value : value.split(',')).map((s) => s.trim()).filter((s) => s.length > 0),
  )
  .pipe(
    z
      .array(z.string().regex(/^[A-Za-z0-9.[\]:_-]+:\d{1,5}$/, { error: 'expected host:port' }))
      .min(1, { error: 'expected at least one host:port' }),
  );

/** `true` or `false` (any case), or a boolean. */
const flag = z.union([z.boolean(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'boolean') return value;
  const text = value.trim().toLowerCase();
  if (text === 'true') return true;
  if (text === 'false') return false;
  ctx.addIssue({ code: 'custom', message: 'expected true or false' });
  return z.NEVER;
});

const filePath = z.string().trim().min(1, { error: 'expected a file path' });
const nonEmpty = z.string().min(1, { error: 'expected a non-empty value' });

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/**
 * TLS and SASL towards the brokers. Off unless set; the rules between the fields (a client
 * certificate needs its key, a SASL mechanism needs a username and a password, ...) and the files
 * themselves are checked by loadConfig, which knows the environment variables to name.
 */
const kafkaSsl = z
  .object({
    /** TLS to the brokers (KAFKA_SSL=true). Without caFile, Node's bundled root CAs are trusted. */
    enabled: flag.default(false),
    /** PEM file of the CA certificate(s) to trust instead of Node's bundled roots. */
    caFile: filePath.optional(),
    /** PEM client certificate (chain) for mutual TLS; needs keyFile. */
    certFile: filePath.optional(),
    /** PEM private key of certFile (PKCS#8, PKCS#1 or SEC1; may be encrypted). */
    keyFile: filePath.optional(),
    /** Passphrase of an encrypted keyFile. Secret: environment only. */
    keyPassword: nonEmpty.optional(),
    /** Verify the broker certificate against the trusted CAs and the host name. */
    rejectUnauthorized: flag.default(true),
    /** Host name for SNI and certificate verification, instead of the broker's address. */
    servername: z
      .string()
      .regex(/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/, { error: 'expected a host name' })
      .optional(),
  })
  .prefault({});

const kafkaSasl = z
  .object({
    mechanism: z
      .preprocess(
        (value) => (typeof value === 'string' ? value.trim().toLowerCase() : value),
        z.enum(SASL_MECHANISMS, { error: `expected one of: ${SASL_MECHANISMS.join(', ')}` }),
      )
      .optional(),
    username: nonEmpty.optional(),
    /** Secret: environment only. */
    password: nonEmpty.optional(),
  })
  .prefault({});

export const PIPELINES = ['variants', 'embeddings'] as const;
export type PipelineName = (typeof PIPELINES)[number];

/** A comma-separated list (or array) of names from `allowed`, at least one. */
const nameList = <T extends string>(allowed: readonly [T, ...T[]]) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((value) =>
      (Array.isArray(value) ? value : value.split(',')).map((s) => s.trim()).filter((s) => s.length > 0),
    )
    .pipe(
      z
        .array(z.enum(allowed, { error: `expected one of: ${allowed.join(', ')}` }))
        .min(1, { error: `expected at least one of: ${allowed.join(', ')}` }),
    );

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;

export const configSchema = z.object({
  kafka: z.object({
    brokers: brokerList.default(['127.0.0.1:19092']),
    clientId: z.string().regex(SAFE_NAME).default('varstream'),
    groupId: z
      .string()
      .regex(SAFE_NAME, { error: 'expected letters, digits, ".", "_" or "-"' })
      .default('varstream'),
    /** Upper bound of one fetch response, all partitions. */
    fetchMaxBytes: bytes(64 * 1024, 512 * 1024 ** 2).default(8 * 1024 ** 2),
    /** Upper bound of one partition's share of a fetch (a larger single message is still returned). */
    fetchMaxBytesPerPartition: bytes(16 * 1024, 128 * 1024 ** 2).default(2 * 1024 ** 2),
    sessionTimeoutMs: int(6_000, 300_000).default(30_000),
    /**
     * Longest wait of one fetch for new data. Also how long kafkajs idles while every partition is
     * paused, so it bounds how late a resume takes effect.
     */
    fetchMaxWaitMs: int(10, 30_000).default(500),
    /** A message larger than this (key + value + headers) is dead-lettered, not decoded. */
    maxMessageBytes: bytes(1024, 512 * 1024 ** 2).default(8 * 1024 ** 2),
    /** Partitions of the topics `varstream topics create` makes. */
    topicPartitions: int(1, 1024).default(3),
    ssl: kafkaSsl,
    sasl: kafkaSasl,
  }),
  topics: z.object({
    variants: topicName.default('variants'),
    embeddings: topicName.default('embeddings'),
    deadLetter: topicName.default('dead-letter'),
  }),
  /** The pipelines this process runs (each in the same consumer group). */
  pipelines: nameList(PIPELINES).default(['variants', 'embeddings']),
  variants: z.object({
    sinks: nameList(VARIANT_SINKS).default(['lancedb', 'kuzu']),
    // The work one message can cause (contract/limits.ts); each breach is a dead letter with its code.
    maxAlts: int(1, 1_000_000).default(DEFAULT_VARIANT_LIMITS.maxAlts),
    maxPloidy: int(1, 1_000_000).default(DEFAULT_VARIANT_LIMITS.maxPloidy),
    maxCalls: int(1, 100_000_000).default(DEFAULT_VARIANT_LIMITS.maxCalls),
    maxNameBytes: bytes(16, 64 * 1024 ** 2).default(DEFAULT_VARIANT_LIMITS.maxNameBytes),
    maxAlleleBytes: bytes(16, 512 * 1024 ** 2).default(DEFAULT_VARIANT_LIMITS.maxAlleleBytes),
    maxInfoBytes: bytes(16, 512 * 1024 ** 2).default(DEFAULT_VARIANT_LIMITS.maxInfoBytes),
    maxInfoDepth: int(1, 1_000).default(DEFAULT_VARIANT_LIMITS.maxInfoDepth),
  }),
  embeddings: z.object({
    sinks: nameList(EMBEDDING_SINKS).default(['lancedb']),
    /** Vector dimension; unset: the existing table's, or 1536 for a new table. */
    dim: int(1, 65_536).optional(),
    /** Distance of the vector index and of `query similar`. */
    distance: z
      .enum(DISTANCE_TYPES, { error: `expected one of: ${DISTANCE_TYPES.join(', ')}` })
      .default('cosine'),
  }),
  lancedb: lancedbOptions,
  kuzu: kuzuOptions,
  batch: z.object({
    maxRows: int(1, 1_000_000).default(10_000),
    /** Message bytes (key + value + headers) in one batch. */
    maxBytes: bytes(1024, 1024 ** 3).default(16 * 1024 ** 2),
    lingerMs: int(1, 600_000).default(500),
    /** Batches being written at once (plus the one filling). */
    maxInFlight: int(1, 64).default(2),
    /** Adapt rows and bytes per batch (AIMD) between 1/4 of maxRows/maxBytes and them, starting at 1/4. */
    adaptive: z
      .union([z.boolean(), z.enum(['true', 'false'])])
      .transform((v) => v === true || v === 'true')
      .default(true),
  }),
  sink: z.object({
    retryInitialMs: int(1, 60_000).default(200),
    retryMaxMs: int(1, 600_000).default(30_000),
  }),
  memory: z.object({
    /** The one memory knob; unset: the cgroup's limit, else 1 GiB. Sizes below derive from it. */
    limitBytes: bytes(512 * 1024 ** 2, 1024 ** 4).optional(),
    /** How often the memory monitor samples. */
    sampleIntervalMs: int(10, 60_000).default(250),
  }),
  shutdownGraceMs: int(1_000, 600_000).default(25_000),
  /** The HTTP endpoint (/healthz, /readyz, /metrics) and the consumer-lag gauge. */
  telemetry: z.object({
    /** Port of /healthz, /readyz and /metrics (Prometheus); 0 disables the endpoint. */
    httpPort: int(0, 65_535).default(9464),
    /** The interface it listens on. */
    httpHost: z.string().min(1).default('0.0.0.0'),
    /** /healthz fails when the consume loop made no progress for this long. */
    livenessTtlMs: int(1_000, 3_600_000).default(60_000),
    /** /healthz fails when one sink write has not returned for this long; 0: not watched. */
    sinkStallMs: int(0, 24 * 3_600_000).default(600_000),
    /** How often consumer lag is polled from Kafka for the lag gauge; 0: never. */
    lagIntervalMs: int(0, 3_600_000).default(15_000),
  }),
  /** Fault and delay injection for tests and benchmarks. Never set in production. */
  testing: z.object({
    /** Every sink write waits this long first (a slow sink, on purpose). */
    sinkDelayMs: int(0, 600_000).default(0),
    /**
     * Every delayed sink write also holds memory, until the process's RSS reaches this many bytes
     * (a store whose working set rises while it writes, on purpose); 0 holds none.
     */
    sinkBallastRssBytes: bytes(0, 64 * 1024 ** 3).default(0),
    /** Each sink write attempt fails first (transiently) with this probability, 0 to 0.9. */
    sinkFailureRate: z.coerce
      .number({ error: 'expected a probability between 0 and 0.9' })
      .min(0, { error: 'expected a probability between 0 and 0.9' })
      .max(0.9, { error: 'expected a probability between 0 and 0.9' })
      .default(0),
    /** Sinks reject (as content) every message whose offset o has o % N === N - 1; 0 disables. */
    sinkRejectEvery: int(0, 1_000_000_000).default(0),
  }),
  logLevel: z.enum(LOG_LEVELS, { error: `expected one of: ${LOG_LEVELS.join(', ')}` }).default('info'),
  /** `consume`'s output: `auto` is `pretty` on a terminal, else `json`. */
  logFormat: z.enum(LOG_FORMATS, { error: `expected one of: ${LOG_FORMATS.join(', ')}` }).default('auto'),
});

export type Config = z.infer<typeof configSchema> & {
  /** Derived from memory.limitBytes by loadConfig (absent in configurations built by hand). */
  memoryBudget?: MemoryBudget;
  /** Unknown VARSTREAM_* variables and config-file keys, by loadConfig (check.ts), for the start to warn about. */
  warnings?: readonly string[];
  /** Where each field's value came from (`default`, `derived`, `file`, `env NAME`, `flag`), by loadConfig. */
  sources?: Readonly<Record<string, string>>;
};
/** A partial, unvalidated configuration, as read from a file or assembled by tests. */
export type ConfigInput = z.input<typeof configSchema>;

/** The input topic of each configured pipeline, in the configuration's order. */
export function pipelineTopics(config: Pick<Config, 'pipelines' | 'topics'>): string[] {
  return config.pipelines.map((p) => (p === 'variants' ? config.topics.variants : config.topics.embeddings));
}
