/**
 * The metric spec: every metric varstream emits (name, kind, unit, attributes, buckets), the single
 * source of the names. docs/telemetry.md lists each; a test checks the two agree.
 */
import { ATTR } from './semconv.ts';

export type MetricKind = 'counter' | 'histogram' | 'gauge';

export interface MetricSpec {
  readonly name: string;
  readonly kind: MetricKind;
  readonly unit: string;
  readonly description: string;
  readonly attributes: readonly string[];
}

const TOPIC_ATTRS = [ATTR.SYSTEM_NAME, ATTR.CONSUMER_GROUP, ATTR.DESTINATION] as const;

/** Seconds: the messaging conventions' advice, extended to the minutes a stuck store can take. */
export const DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60, 120,
];
export const MESSAGE_COUNT_BUCKETS = [
  1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000,
];
export const BYTE_BUCKETS = [1, 4, 16, 64, 256]
  .flatMap((k) => [k * 1024, k * 1024 ** 2])
  .sort((a, b) => a - b);

/** Every metric varstream emits (docs/telemetry.md lists the same). */
export const METRIC_SPECS = {
  consumed: {
    name: 'messaging.client.consumed.messages',
    kind: 'counter',
    unit: '{message}',
    description: 'Messages handed to varstream by the Kafka consumer (re-read messages count again)',
    attributes: [...TOPIC_ATTRS, ATTR.PARTITION, ATTR.OPERATION_NAME],
  },
  rowsWritten: {
    name: 'varstream.sink.written.rows',
    kind: 'counter',
    unit: '{row}',
    description: 'Rows (or nodes and edges) a sink upserted',
    attributes: [...TOPIC_ATTRS, ATTR.SINK],
  },
  deadLettered: {
    name: 'varstream.dead_lettered.messages',
    kind: 'counter',
    unit: '{message}',
    description: 'Messages published to the dead-letter topic, by error code',
    attributes: [...TOPIC_ATTRS, ATTR.DEAD_LETTER_CODE],
  },
  sinkRetries: {
    name: 'varstream.sink.retries',
    kind: 'counter',
    unit: '{retry}',
    description: 'Failed sink (or dead-letter) writes that will be retried',
    attributes: [...TOPIC_ATTRS, ATTR.SINK],
  },
  processDuration: {
    name: 'messaging.process.duration',
    kind: 'histogram',
    unit: 's',
    description: 'Batch flush: from sealing a batch to every sink written and its dead letters published',
    attributes: [...TOPIC_ATTRS, ATTR.OPERATION_NAME, ATTR.ERROR_TYPE],
  },
  sinkWriteDuration: {
    name: 'varstream.sink.write.duration',
    kind: 'histogram',
    unit: 's',
    description: "One sink's write of one batch, retries included",
    attributes: [...TOPIC_ATTRS, ATTR.SINK, ATTR.ERROR_TYPE],
  },
  batchMessages: {
    name: 'varstream.batch.messages',
    kind: 'histogram',
    unit: '{message}',
    description: 'Messages (rows decoded plus dead letters) in one flushed batch',
    attributes: [...TOPIC_ATTRS],
  },
  batchSize: {
    name: 'varstream.batch.size',
    kind: 'histogram',
    unit: 'By',
    description: 'Message bytes (key + value + headers) in one flushed batch',
    attributes: [...TOPIC_ATTRS],
  },
  commitDuration: {
    name: 'messaging.client.operation.duration',
    kind: 'histogram',
    unit: 's',
    description: 'Offset commit requests to Kafka (messaging.operation.name = commit)',
    attributes: [
      ATTR.SYSTEM_NAME,
      ATTR.CONSUMER_GROUP,
      ATTR.OPERATION_NAME,
      ATTR.OPERATION_TYPE,
      ATTR.ERROR_TYPE,
    ],
  },
  lag: {
    name: 'varstream.consumer.lag',
    kind: 'gauge',
    unit: '{message}',
    description: "Offsets between a partition's end and the group's committed offset",
    attributes: [...TOPIC_ATTRS, ATTR.PARTITION],
  },
  paused: {
    name: 'varstream.partition.paused',
    kind: 'gauge',
    unit: '1',
    description: '1 when an assigned partition is paused for the reason, else 0',
    attributes: [...TOPIC_ATTRS, ATTR.PARTITION, ATTR.PAUSE_REASON],
  },
  memoryLevel: {
    name: 'varstream.memory.level',
    kind: 'gauge',
    unit: '1',
    description: 'Memory level: 0 NORMAL, 1 WARNING, 2 CRITICAL, 3 EMERGENCY',
    attributes: [],
  },
  memoryUsed: {
    name: 'varstream.memory.used',
    kind: 'gauge',
    unit: 'By',
    description: 'The memory figure levels are computed from: max(RSS, cgroup working set)',
    attributes: [],
  },
  memoryLimit: {
    name: 'varstream.memory.limit',
    kind: 'gauge',
    unit: 'By',
    description: 'The memory limit every buffer size derives from',
    attributes: [],
  },
  memoryThreshold: {
    name: 'varstream.memory.threshold',
    kind: 'gauge',
    unit: 'By',
    description: 'Memory used at which a level starts',
    attributes: [ATTR.MEMORY_LEVEL],
  },
  rss: {
    name: 'process.memory.usage',
    kind: 'gauge',
    unit: 'By',
    description: 'Resident set size of the process',
    attributes: [],
  },
  lancedbCache: {
    name: 'varstream.lancedb.cache.size',
    kind: 'gauge',
    unit: 'By',
    description: "Bytes LanceDB's caches (index and metadata) hold; they fill up to their configured sizes",
    attributes: [],
  },
  heldBytes: {
    name: 'varstream.pipeline.held.size',
    kind: 'gauge',
    unit: 'By',
    description: 'Message bytes a pipeline holds: fetched and batching, sealed, and being written',
    attributes: [...TOPIC_ATTRS],
  },
} as const satisfies Record<string, MetricSpec>;

/**
 * The name a metric has on /metrics: the OpenTelemetry Prometheus exporter (0.301) turns every
 * character outside [a-zA-Z0-9_] into `_` and appends `_total` to counters. It adds no unit
 * suffix. Histograms appear as `<name>_bucket`, `<name>_sum` and `<name>_count`.
 */
export function prometheusName(spec: Pick<MetricSpec, 'name' | 'kind'>): string {
  const base = spec.name.replace(/[^a-zA-Z0-9_]/g, '_').replace(/_{2,}/g, '_');
  return spec.kind === 'counter' && !base.endsWith('_total') ? `${base}_total` : base;
}
