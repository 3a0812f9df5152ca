/**
 * The names varstream's telemetry uses: attribute keys, span names, the instrumentation scope.
 * Messaging names follow OpenTelemetry's messaging semantic conventions as shipped in
 * @opentelemetry/semantic-conventions 1.45 (`messaging.system.name`, `kafka.offset`); names of our
 * own are under `varstream.`. docs/telemetry.md lists every one; tests compare the two.
 */

/** The instrumentation scope of every tracer and meter varstream creates. */
export const SCOPE_NAME = 'varstream';

export const ATTR = {
  /** `kafka`. */
  SYSTEM_NAME: 'messaging.system.name',
  /** Deprecated alias of SYSTEM_NAME, set on spans only (backends that still key on it). */
  SYSTEM_LEGACY: 'messaging.system',
  DESTINATION: 'messaging.destination.name',
  /** Partition number as a string (the convention's type). */
  PARTITION: 'messaging.destination.partition.id',
  CONSUMER_GROUP: 'messaging.consumer.group.name',
  OPERATION_NAME: 'messaging.operation.name',
  OPERATION_TYPE: 'messaging.operation.type',
  BATCH_MESSAGE_COUNT: 'messaging.batch.message_count',
  KAFKA_OFFSET: 'kafka.offset',
  ERROR_TYPE: 'error.type',
  SINK: 'varstream.sink.name',
  DEAD_LETTER_CODE: 'varstream.dead_letter.code',
  PAUSE_REASON: 'varstream.pause.reason',
  MEMORY_LEVEL: 'varstream.memory.level',
  BATCH_ID: 'varstream.batch.id',
  BATCH_BYTES: 'varstream.batch.bytes',
  BATCH_DEAD_LETTERS: 'varstream.batch.dead_letters',
  BATCH_RANGES: 'varstream.batch.ranges',
  BATCH_PARTITIONS: 'varstream.batch.partitions',
  BATCH_FIRST_OFFSETS: 'varstream.batch.first_offsets',
  BATCH_LAST_OFFSETS: 'varstream.batch.last_offsets',
  BATCH_LINKS_DROPPED: 'varstream.batch.links_dropped',
  SINK_ROWS: 'varstream.sink.rows',
  SINK_SKIPPED: 'varstream.sink.skipped',
  SINK_ATTEMPTS: 'varstream.sink.attempts',
  COMMIT_OFFSETS: 'varstream.commit.offsets',
  RETRY_ATTEMPT: 'varstream.retry.attempt',
  RETRY_DELAY_MS: 'varstream.retry.delay_ms',
} as const;

export const MESSAGING_SYSTEM = 'kafka';

/** Span names: `{operation} {target}`, as the messaging conventions name spans. */
export const SPAN_NAMES = {
  /** One batch flush: decoded messages written to every sink, dead letters published. */
  process: (topic: string) => `process ${topic}`,
  /** One sink's write of one batch (retries included). */
  write: (sink: string) => `write ${sink}`,
  /** From a batch's write to the commit that covers its last offsets. */
  commit: (topic: string) => `commit ${topic}`,
  /** A batch's dead letters published to the dead-letter topic. */
  deadLetter: (deadLetterTopic: string) => `send ${deadLetterTopic}`,
  /** A message created by the producer CLI (its context travels in `traceparent`). */
  create: (topic: string) => `create ${topic}`,
} as const;

/** The value of `error.type` for an error: a kafkajs `type`, a string `code`, or the class name. */
export function errorType(error: unknown): string {
  if (error !== null && typeof error === 'object') {
    const { type, code, name } = error as { type?: unknown; code?: unknown; name?: unknown };
    if (typeof type === 'string' && type) return type;
    if (typeof code === 'string' && code) return code;
    if (typeof name === 'string' && name) return name;
  }
  return '_OTHER';
}
