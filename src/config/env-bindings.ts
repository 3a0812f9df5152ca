/**
 * Every environment variable varstream reads, the configuration field it sets and what it means.
 * The README's configuration table lists each (a test checks the names, fields and defaults).
 */
import type { EnvBinding } from '../core/option-fields.ts';
import { KUZU_ENV } from '../sinks/kuzu/options.ts';
import { LANCEDB_ENV } from '../sinks/lancedb/options.ts';
import { SASL_MECHANISMS } from './schema.ts';

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
  ...LANCEDB_ENV,
  ...KUZU_ENV,
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
    env: 'LOG_FORMAT',
    path: 'logFormat',
    description: 'consume output: auto (pretty on a terminal), json or pretty',
  },
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
