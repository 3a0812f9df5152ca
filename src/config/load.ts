/**
 * Loads the configuration: defaults, then an optional JSON file (VARSTREAM_CONFIG), then
 * environment variables, then explicit overrides (CLI flags, tests). Validated once; an invalid
 * value fails start with an error naming the field, its environment variable and what is accepted.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import {
  deriveBudget,
  type LimitSource,
  type MemoryBudget,
  resolveLimit,
} from '../backpressure/memory-budget.ts';
import { type Config, type ConfigInput, configSchema, SASL_MECHANISMS } from './schema.ts';

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
    env: 'VARSTREAM_MAX_ALTS',
    path: 'variants.maxAlts',
    description: 'ALT alleles of one record (TOO_MANY_ALTS)',
  },
  {
    env: 'VARSTREAM_MAX_PLOIDY',
    path: 'variants.maxPloidy',
    description: 'Alleles of one genotype (PLOIDY_TOO_HIGH)',
  },
  {
    env: 'VARSTREAM_MAX_CALLS',
    path: 'variants.maxCalls',
    description: '(sample, allele) calls of one message (TOO_MANY_CALLS)',
  },
  {
    env: 'VARSTREAM_MAX_NAME_BYTES',
    path: 'variants.maxNameBytes',
    description: 'CHROM, ID, FILTER, sample and gene names (FIELD_TOO_LONG)',
  },
  {
    env: 'VARSTREAM_MAX_ALLELE_BYTES',
    path: 'variants.maxAlleleBytes',
    description: 'REF and each ALT allele (FIELD_TOO_LONG)',
  },
  {
    env: 'VARSTREAM_MAX_INFO_BYTES',
    path: 'variants.maxInfoBytes',
    description: 'The INFO object as JSON (INFO_TOO_LARGE)',
  },
  {
    env: 'VARSTREAM_MAX_INFO_DEPTH',
    path: 'variants.maxInfoDepth',
    description: 'Nesting of the INFO object (INFO_TOO_DEEP)',
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
  { env: 'KAFKA_SSL', path: 'kafka.ssl.enabled', description: 'TLS to the brokers (true or false)' },
  {
    env: 'KAFKA_SSL_CA_FILE',
    path: 'kafka.ssl.caFile',
    description: "PEM file of the CA certificates to trust (unset: Node's bundled roots)",
  },
  {
    env: 'KAFKA_SSL_CERT_FILE',
    path: 'kafka.ssl.certFile',
    description: 'PEM client certificate for mutual TLS',
  },
  {
    env: 'KAFKA_SSL_KEY_FILE',
    path: 'kafka.ssl.keyFile',
    description: 'PEM private key of the client certificate',
  },
  {
    env: 'KAFKA_SSL_KEY_PASSWORD',
    path: 'kafka.ssl.keyPassword',
    description: 'Passphrase of an encrypted client key',
    secret: true,
  },
  {
    env: 'KAFKA_SSL_REJECT_UNAUTHORIZED',
    path: 'kafka.ssl.rejectUnauthorized',
    description: 'Verify the broker certificate and host name',
  },
  {
    env: 'KAFKA_SSL_SERVERNAME',
    path: 'kafka.ssl.servername',
    description: "Host name for SNI and verification instead of the broker's address",
  },
  {
    env: 'KAFKA_SASL_MECHANISM',
    path: 'kafka.sasl.mechanism',
    description: `SASL mechanism: ${SASL_MECHANISMS.join(', ')}`,
  },
  { env: 'KAFKA_SASL_USERNAME', path: 'kafka.sasl.username', description: 'SASL username' },
  { env: 'KAFKA_SASL_PASSWORD', path: 'kafka.sasl.password', description: 'SASL password', secret: true },
  { env: 'VARSTREAM_TOPIC_VARIANTS', path: 'topics.variants', description: 'Variants topic' },
  { env: 'VARSTREAM_TOPIC_EMBEDDINGS', path: 'topics.embeddings', description: 'Embeddings topic' },
  { env: 'VARSTREAM_TOPIC_DEAD_LETTER', path: 'topics.deadLetter', description: 'Dead-letter topic' },
  { env: 'VARSTREAM_PIPELINES', path: 'pipelines', description: 'Pipelines this process runs' },
  { env: 'VARSTREAM_VARIANT_SINKS', path: 'variants.sinks', description: 'Sinks of the variant pipeline' },
  {
    env: 'VARSTREAM_EMBEDDING_SINKS',
    path: 'embeddings.sinks',
    description: 'Sinks of the embedding pipeline',
  },
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
  {
    env: 'VARSTREAM_HTTP_PORT',
    path: 'telemetry.httpPort',
    description: 'Port of /healthz, /readyz and /metrics (0: off)',
  },
  { env: 'VARSTREAM_HTTP_HOST', path: 'telemetry.httpHost', description: 'Interface of the HTTP endpoint' },
  {
    env: 'VARSTREAM_LAG_INTERVAL_MS',
    path: 'telemetry.lagIntervalMs',
    description: 'How often consumer lag is polled for the lag gauge (0: never)',
  },
  {
    env: 'VARSTREAM_HEALTH_TTL_MS',
    path: 'telemetry.livenessTtlMs',
    description: '/healthz fails after this long without consume-loop progress',
  },
  {
    env: 'VARSTREAM_SINK_STALL_MS',
    path: 'telemetry.sinkStallMs',
    description: '/healthz fails when one sink write has not returned for this long (0: not watched)',
  },
  { env: 'LOG_LEVEL', path: 'logLevel', description: 'Log level' },
  {
    env: 'VARSTREAM_TEST_SINK_DELAY_MS',
    path: 'testing.sinkDelayMs',
    description: 'Test only: every sink write waits this long first',
  },
  {
    env: 'VARSTREAM_TEST_SINK_BALLAST_RSS',
    path: 'testing.sinkBallastRssBytes',
    description: 'Test only: every delayed sink write holds memory until the RSS reaches this',
  },
  {
    env: 'VARSTREAM_TEST_SINK_FAILURE_RATE',
    path: 'testing.sinkFailureRate',
    description: 'Test only: probability that a sink write attempt fails transiently',
  },
  {
    env: 'VARSTREAM_TEST_SINK_REJECT_EVERY',
    path: 'testing.sinkRejectEvery',
    description: 'Test only: sinks reject messages at offsets o with o % N = N - 1',
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
  if (file) {
    const content = readConfigFile(file);
    rejectSecretsInFile(file, content);
    deepMerge(raw, content);
  }
  for (const binding of ENV_BINDINGS) {
    const value = env[binding.env];
    if (value !== undefined && value !== '') setPath(raw, binding.path, value);
  }
  if (options.overrides) deepMerge(raw, options.overrides as Record<string, unknown>);
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => describeIssue(issue, raw)));
  }
  const security = kafkaSecurityProblems(result.data);
  if (security.length > 0) throw new ConfigError(security);
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
    out[binding.path] = binding.secret && value !== undefined ? '<redacted>' : value;
  }
  return out;
}

function describeIssue(
  issue: { path: PropertyKey[]; message: string },
  raw: Record<string, unknown>,
): string {
  const path = issue.path.filter((p) => typeof p === 'string').join('.');
  return describeField(path, getPath(raw, path), issue.message);
}

/** `field (env VAR) = value: message`, a secret's value never shown. */
function describeField(path: string, value: unknown, message: string): string {
  const binding = ENV_BINDINGS.find((b) => b.path === path);
  const shown = value === undefined ? '' : binding?.secret ? ' = <redacted>' : ` = ${JSON.stringify(value)}`;
  const via = binding ? ` (env ${binding.env})` : '';
  return `${path}${via}${shown}: ${message}`;
}

function envOf(path: string): string {
  return ENV_BINDINGS.find((b) => b.path === path)?.env ?? path;
}

/** Passwords come from the environment only, never from a configuration file. */
function rejectSecretsInFile(file: string, content: Record<string, unknown>): void {
  const problems = ENV_BINDINGS.filter((b) => b.secret && getPath(content, b.path) !== undefined).map(
    (b) =>
      `${b.path} in VARSTREAM_CONFIG = ${JSON.stringify(file)}: secrets are read from the environment only; set ${b.env} instead`,
  );
  if (problems.length > 0) throw new ConfigError(problems);
}

/**
 * The rules between the Kafka TLS and SASL settings, then (TLS on) the files they name. Each
 * problem names the field, its environment variable and what is expected.
 */
function kafkaSecurityProblems(config: Config): string[] {
  const { ssl, sasl } = config.kafka;
  const problems: string[] = [];
  const at = (path: string, message: string) =>
    problems.push(describeField(path, getPath(config as unknown as Record<string, unknown>, path), message));
  const tlsOn = `only used with TLS: set ${envOf('kafka.ssl.enabled')}=true`;
  if (!ssl.enabled) {
    for (const field of ['caFile', 'certFile', 'keyFile', 'keyPassword', 'servername'] as const) {
      if (ssl[field] !== undefined) at(`kafka.ssl.${field}`, tlsOn);
    }
    if (!ssl.rejectUnauthorized) at('kafka.ssl.rejectUnauthorized', tlsOn);
  } else {
    if (ssl.certFile !== undefined && ssl.keyFile === undefined)
      at(
        'kafka.ssl.keyFile',
        `required with ${envOf('kafka.ssl.certFile')}: the client certificate's private key (PEM)`,
      );
    if (ssl.keyFile !== undefined && ssl.certFile === undefined)
      at(
        'kafka.ssl.certFile',
        `required with ${envOf('kafka.ssl.keyFile')}: the client certificate of that key (PEM)`,
      );
    if (ssl.keyPassword !== undefined && ssl.keyFile === undefined)
      at(
        'kafka.ssl.keyPassword',
        `only used with ${envOf('kafka.ssl.keyFile')} (the passphrase of that key)`,
      );
  }
  if (sasl.mechanism !== undefined) {
    for (const field of ['username', 'password'] as const) {
      if (sasl[field] === undefined)
        at(`kafka.sasl.${field}`, `required with ${envOf('kafka.sasl.mechanism')}=${sasl.mechanism}`);
    }
  } else if (sasl.username !== undefined || sasl.password !== undefined) {
    at(
      'kafka.sasl.mechanism',
      `required with ${envOf('kafka.sasl.username')} and ${envOf('kafka.sasl.password')}: expected one of: ${SASL_MECHANISMS.join(', ')}`,
    );
  }
  if (ssl.enabled) readTlsFiles(config, at);
  return problems;
}

/** The PEM text of the files `kafka.ssl` names, for the TLS options of the Kafka client. */
export interface KafkaTlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

/**
 * Reads the files `kafka.ssl` names and checks them: readable, PEM of the right kind, an encrypted
 * key opens with `kafka.ssl.keyPassword`, the certificate belongs to the key and has not expired.
 * Throws a ConfigError naming the field and its environment variable.
 */
export function readKafkaTls(config: Config): KafkaTlsFiles {
  const problems: string[] = [];
  const files = readTlsFiles(config, (path, message) =>
    problems.push(describeField(path, getPath(config as unknown as Record<string, unknown>, path), message)),
  );
  if (problems.length > 0) throw new ConfigError(problems);
  return files;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function readTlsFiles(config: Config, at: (path: string, message: string) => void): KafkaTlsFiles {
  const { ssl } = config.kafka;
  const files: KafkaTlsFiles = {};
  const read = (field: 'caFile' | 'certFile' | 'keyFile'): string | undefined => {
    const file = ssl[field];
    if (file === undefined) return undefined;
    try {
      if (!statSync(file).isFile()) {
        at(`kafka.ssl.${field}`, 'cannot read the file: not a regular file');
        return undefined;
      }
      return readFileSync(file, 'utf8');
    } catch (error) {
      at(`kafka.ssl.${field}`, `cannot read the file: ${(error as Error).message}`);
      return undefined;
    }
  };
  const certificates = (text: string): X509Certificate[] | undefined => {
    try {
      const blocks = text.match(PEM_CERTIFICATE) ?? [];
      return blocks.length > 0 ? blocks.map((block) => new X509Certificate(block)) : undefined;
    } catch {
      return undefined;
    }
  };

  const ca = read('caFile');
  if (ca !== undefined) {
    if (certificates(ca)) files.ca = ca;
    else at('kafka.ssl.caFile', 'expected PEM CA certificates (-----BEGIN CERTIFICATE-----)');
  }
  const cert = read('certFile');
  let leaf: X509Certificate | undefined;
  if (cert !== undefined) {
    leaf = certificates(cert)?.[0];
    if (!leaf) at('kafka.ssl.certFile', 'expected a PEM certificate (-----BEGIN CERTIFICATE-----)');
    else if (Date.parse(leaf.validTo) < Date.now())
      at('kafka.ssl.certFile', `the certificate expired on ${leaf.validTo}`);
    else files.cert = cert;
  }
  const key = read('keyFile');
  if (key !== undefined) {
    const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(key);
    let keyObject: KeyObject | undefined;
    if (encrypted && ssl.keyPassword === undefined) {
      at(
        'kafka.ssl.keyFile',
        `the key is encrypted: set its passphrase in ${envOf('kafka.ssl.keyPassword')}`,
      );
    } else {
      try {
        keyObject = createPrivateKey({ key, format: 'pem', passphrase: ssl.keyPassword });
      } catch (error) {
        if (encrypted)
          at(
            'kafka.ssl.keyPassword',
            `does not decrypt the key in ${envOf('kafka.ssl.keyFile')} (wrong passphrase?)`,
          );
        else
          at(
            'kafka.ssl.keyFile',
            `expected a PEM private key (-----BEGIN PRIVATE KEY-----, RSA or EC): ${(error as Error).message}`,
          );
      }
    }
    if (keyObject) {
      if (leaf && !leaf.checkPrivateKey(keyObject))
        at(
          'kafka.ssl.certFile',
          `the certificate does not belong to the key in ${envOf('kafka.ssl.keyFile')}`,
        );
      else files.key = key;
    }
  }
  return files;
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
    telemetry: {},
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
