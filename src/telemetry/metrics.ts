/**
 * varstream's metrics, on the OpenTelemetry API only (the SDK is wired in the entry point). One
 * ConsumerMetrics per process: typed methods for the counters and histograms, and registrations
 * for the observable gauges (lag, paused partitions, memory, bytes held). docs/telemetry.md lists
 * every metric in METRIC_SPECS; a test checks the two agree.
 *
 * The API has no proxy meter: create ConsumerMetrics after startTelemetry() (or pass a meter), or
 * every instrument is a no-op.
 *
 * Long file: one typed method per instrument of the metric spec (metric-spec.ts), and the
 * observable gauges; no logic beyond recording.
 */
import {
  type Attributes,
  type BatchObservableResult,
  type Counter,
  type Histogram,
  type Meter,
  type MetricOptions,
  metrics,
  type ObservableGauge,
  type ObservableResult,
} from '@opentelemetry/api';
import { DeadLetterCode } from '../contract/errors.ts';
import { PauseReason } from '../core/pause-reason.ts';
import type { Source } from '../core/source.ts';
import {
  BYTE_BUCKETS,
  DURATION_BUCKETS,
  MESSAGE_COUNT_BUCKETS,
  METRIC_SPECS,
  type MetricSpec,
} from './metric-spec.ts';
import { ATTR, errorType, MESSAGING_SYSTEM, SCOPE_NAME } from './semconv.ts';

export interface PartitionLag {
  topic: string;
  partition: number;
  lag: number;
}

export interface PausedPartition {
  topic: string;
  partition: number;
  reasons: readonly string[];
}

export interface PauseState {
  /** Partitions this member owns, per topic. */
  assigned: Iterable<readonly [string, readonly number[]]>;
  /** The owned partitions that are paused, with their reasons (PauseController.paused()). */
  paused: Iterable<PausedPartition>;
}

export interface MemoryReading {
  /** 0 NORMAL, 1 WARNING, 2 CRITICAL, 3 EMERGENCY (MemoryMonitor.level). */
  level: number;
  /** The figure levels are computed from (MemorySample.usedBytes); omitted before the first sample. */
  usedBytes?: number;
  limitBytes: number;
  thresholds?: { warning: number; critical: number; emergency: number };
}

export interface HeldBytes {
  topic: string;
  bytes: number;
}

export interface ConsumerMetricsOptions {
  groupId: string;
  /** Default: metrics.getMeter('varstream') at construction. */
  meter?: Meter;
  /** The reasons reported for every assigned partition (0 or 1). Default: every PauseReason. */
  pauseReasons?: readonly string[];
  /** Reads the process RSS (tests replace it). */
  readRss?: () => number;
  /** Reads the bytes LanceDB's caches hold (0 when the process has no LanceDB table open). */
  readLanceCacheBytes?: () => number;
}

type Unregister = () => void;

export class ConsumerMetrics {
  readonly groupId: string;
  private readonly meter: Meter;
  private readonly pauseReasons: readonly string[];
  private readonly consumed: Counter;
  private readonly rowsWritten: Counter;
  private readonly deadLetteredCounter: Counter;
  private readonly sinkRetries: Counter;
  private readonly processDuration: Histogram;
  private readonly sinkWriteDuration: Histogram;
  private readonly batchMessages: Histogram;
  private readonly batchSize: Histogram;
  private readonly commitDuration: Histogram;
  private readonly gauges: Record<
    'lag' | 'paused' | 'memoryLevel' | 'memoryUsed' | 'memoryLimit' | 'memoryThreshold' | 'heldBytes',
    ObservableGauge
  >;
  /** Attribute objects are reused: one per topic (and per topic and sink, partition...). */
  private readonly attrCache = new Map<string, Attributes>();

  constructor(options: ConsumerMetricsOptions) {
    this.groupId = options.groupId;
    this.meter = options.meter ?? metrics.getMeter(SCOPE_NAME);
    this.pauseReasons = options.pauseReasons ?? Object.values(PauseReason);
    const s = METRIC_SPECS;
    this.consumed = this.meter.createCounter(s.consumed.name, opts(s.consumed));
    this.rowsWritten = this.meter.createCounter(s.rowsWritten.name, opts(s.rowsWritten));
    this.deadLetteredCounter = this.meter.createCounter(s.deadLettered.name, opts(s.deadLettered));
    this.sinkRetries = this.meter.createCounter(s.sinkRetries.name, opts(s.sinkRetries));
    this.processDuration = this.meter.createHistogram(
      s.processDuration.name,
      opts(s.processDuration, DURATION_BUCKETS),
    );
    this.sinkWriteDuration = this.meter.createHistogram(
      s.sinkWriteDuration.name,
      opts(s.sinkWriteDuration, DURATION_BUCKETS),
    );
    this.batchMessages = this.meter.createHistogram(
      s.batchMessages.name,
      opts(s.batchMessages, MESSAGE_COUNT_BUCKETS),
    );
    this.batchSize = this.meter.createHistogram(s.batchSize.name, opts(s.batchSize, BYTE_BUCKETS));
    this.commitDuration = this.meter.createHistogram(
      s.commitDuration.name,
      opts(s.commitDuration, DURATION_BUCKETS),
    );
    this.gauges = {
      lag: this.meter.createObservableGauge(s.lag.name, opts(s.lag)),
      paused: this.meter.createObservableGauge(s.paused.name, opts(s.paused)),
      memoryLevel: this.meter.createObservableGauge(s.memoryLevel.name, opts(s.memoryLevel)),
      memoryUsed: this.meter.createObservableGauge(s.memoryUsed.name, opts(s.memoryUsed)),
      memoryLimit: this.meter.createObservableGauge(s.memoryLimit.name, opts(s.memoryLimit)),
      memoryThreshold: this.meter.createObservableGauge(s.memoryThreshold.name, opts(s.memoryThreshold)),
      heldBytes: this.meter.createObservableGauge(s.heldBytes.name, opts(s.heldBytes)),
    };
    const readRss = options.readRss ?? (() => process.memoryUsage.rss());
    this.meter
      .createObservableGauge(s.rss.name, opts(s.rss))
      .addCallback((result) => result.observe(readRss()));
    const readLanceCache = options.readLanceCacheBytes ?? (() => 0);
    this.meter
      .createObservableGauge(s.lancedbCache.name, opts(s.lancedbCache))
      .addCallback((result) => result.observe(readLanceCache()));
  }

  /**
   * Starts every counter of these pipelines at 0 (each sink, each dead-letter code), so rates and
   * dashboards see a series before the first event. Call once, after the pipelines are known.
   */
  declarePipelines(pipelines: readonly { topic: string; sinks: readonly string[] }[]): void {
    for (const { topic, sinks } of pipelines) {
      for (const sink of sinks) {
        this.rowsWritten.add(0, this.sinkAttrs(topic, sink));
        this.sinkRetries.add(0, this.sinkAttrs(topic, sink));
      }
      this.sinkRetries.add(0, this.sinkAttrs(topic, DEAD_LETTER_SINK));
      for (const code of Object.values(DeadLetterCode))
        this.deadLetteredCounter.add(0, this.codeAttrs(topic, code));
    }
  }

  /** Messages of one kafkajs batch handed to the pipeline. */
  messagesConsumed(topic: string, partition: number, count = 1): void {
    if (count <= 0) return;
    const attrs = this.cached(`poll|${topic}|${partition}`, () => ({
      ...this.partitionAttrs(topic, partition),
      [ATTR.OPERATION_NAME]: 'poll',
    }));
    this.consumed.add(count, attrs);
  }

  rowsWrittenBy(topic: string, sink: string, rows: number): void {
    if (rows > 0) this.rowsWritten.add(rows, this.sinkAttrs(topic, sink));
  }

  deadLettered(topic: string, code: string, count = 1): void {
    if (count > 0) this.deadLetteredCounter.add(count, this.codeAttrs(topic, code));
  }

  /** A failed write that will be retried; `sink` is the sink's name, or `dead-letter`. */
  sinkRetried(topic: string, sink: string): void {
    this.sinkRetries.add(1, this.sinkAttrs(topic, sink));
  }

  /** One batch flush finished (or failed: `error` set). */
  batchProcessed(batch: {
    topic: string;
    messages: number;
    bytes: number;
    seconds: number;
    error?: unknown;
  }): void {
    const base = this.topicAttrs(batch.topic);
    this.processDuration.record(
      batch.seconds,
      batch.error === undefined
        ? this.cached(`process|${batch.topic}`, () => ({ ...base, [ATTR.OPERATION_NAME]: 'process' }))
        : { ...base, [ATTR.OPERATION_NAME]: 'process', [ATTR.ERROR_TYPE]: errorType(batch.error) },
    );
    this.batchMessages.record(batch.messages, base);
    this.batchSize.record(batch.bytes, base);
  }

  /** One sink's write of one batch finished (or failed: `error` set). */
  sinkWritten(write: { topic: string; sink: string; seconds: number; error?: unknown }): void {
    const base = this.sinkAttrs(write.topic, write.sink);
    this.sinkWriteDuration.record(
      write.seconds,
      write.error === undefined ? base : { ...base, [ATTR.ERROR_TYPE]: errorType(write.error) },
    );
  }

  /** One offset commit request finished (or failed: `error` set). */
  commitFinished(seconds: number, error?: unknown): void {
    const base = this.cached('commit', () => ({
      [ATTR.SYSTEM_NAME]: MESSAGING_SYSTEM,
      [ATTR.CONSUMER_GROUP]: this.groupId,
      [ATTR.OPERATION_NAME]: 'commit',
      [ATTR.OPERATION_TYPE]: 'settle',
    }));
    this.commitDuration.record(
      seconds,
      error === undefined ? base : { ...base, [ATTR.ERROR_TYPE]: errorType(error) },
    );
  }

  /**
   * Reports `source()` (e.g. LagPoller.lags) on every collection; a partition reported before and
   * absent now (revoked, or the poll is stale) is reported as 0.
   */
  observeLag(source: () => Iterable<PartitionLag>): Unregister {
    return this.observe(this.gauges.lag, (result) => {
      for (const { topic, partition, lag } of source())
        result.observe(lag, this.partitionAttrs(topic, partition));
    });
  }

  /**
   * Reports, per assigned partition and reason, 1 when paused for it and 0 otherwise (0 also for
   * partitions no longer assigned).
   */
  observePaused(source: () => PauseState): Unregister {
    return this.observe(this.gauges.paused, (result) => {
      const state = source();
      const paused = new Map<string, ReadonlySet<string>>();
      for (const p of state.paused) paused.set(`${p.topic}\u0000${p.partition}`, new Set(p.reasons));
      for (const [topic, partitions] of state.assigned)
        for (const partition of partitions) {
          const reasons = paused.get(`${topic}\u0000${partition}`);
          for (const reason of this.pauseReasons)
            result.observe(reasons?.has(reason) ? 1 : 0, this.reasonAttrs(topic, partition, reason));
        }
    });
  }

  /** Reports the memory level, the figure it is computed from, the limit and the thresholds. */
  observeMemory(source: () => MemoryReading | undefined): Unregister {
    const { memoryLevel, memoryUsed, memoryLimit, memoryThreshold } = this.gauges;
    const callback = (result: BatchObservableResult) => {
      const reading = source();
      if (!reading) return;
      result.observe(memoryLevel, reading.level);
      if (reading.usedBytes !== undefined) result.observe(memoryUsed, reading.usedBytes);
      result.observe(memoryLimit, reading.limitBytes);
      if (reading.thresholds) {
        result.observe(memoryThreshold, reading.thresholds.warning, { [ATTR.MEMORY_LEVEL]: 'WARNING' });
        result.observe(memoryThreshold, reading.thresholds.critical, { [ATTR.MEMORY_LEVEL]: 'CRITICAL' });
        result.observe(memoryThreshold, reading.thresholds.emergency, { [ATTR.MEMORY_LEVEL]: 'EMERGENCY' });
      }
    };
    const observables = [memoryLevel, memoryUsed, memoryLimit, memoryThreshold];
    this.meter.addBatchObservableCallback(callback, observables);
    return () => this.meter.removeBatchObservableCallback(callback, observables);
  }

  /** Reports the bytes each pipeline holds (MicroBatcher.bytesHeld per topic). */
  observeHeldBytes(source: () => Iterable<HeldBytes>): Unregister {
    return this.observe(this.gauges.heldBytes, (result) => {
      for (const { topic, bytes } of source()) result.observe(bytes, this.topicAttrs(topic));
    });
  }

  /**
   * Registers `observe` on `gauge`. The SDK keeps exporting, with cumulative temporality, the last
   * value of every series an observable gauge ever reported; so a series reported before and not
   * now is reported as 0 (a revoked partition's lag or pause must not stay at its last value).
   */
  private observe(gauge: ObservableGauge, observe: (result: ObservableResult) => void): Unregister {
    let previous = new Map<string, Attributes>();
    const callback = (result: ObservableResult) => {
      const seen = new Map<string, Attributes>();
      observe({
        observe: (value, attributes = {}) => {
          if (seen.size < 10_000) seen.set(seriesKey(attributes), attributes);
          result.observe(value, attributes);
        },
      });
      for (const [key, attributes] of previous) if (!seen.has(key)) result.observe(0, attributes);
      previous = seen;
    };
    gauge.addCallback(callback);
    return () => gauge.removeCallback(callback);
  }

  private topicAttrs(topic: string): Attributes {
    return this.cached(`t|${topic}`, () => ({
      [ATTR.SYSTEM_NAME]: MESSAGING_SYSTEM,
      [ATTR.CONSUMER_GROUP]: this.groupId,
      [ATTR.DESTINATION]: topic,
    }));
  }

  private partitionAttrs(topic: string, partition: number): Attributes {
    return this.cached(`p|${topic}|${partition}`, () => ({
      ...this.topicAttrs(topic),
      [ATTR.PARTITION]: String(partition),
    }));
  }

  private sinkAttrs(topic: string, sink: string): Attributes {
    return this.cached(`s|${topic}|${sink}`, () => ({ ...this.topicAttrs(topic), [ATTR.SINK]: sink }));
  }

  private codeAttrs(topic: string, code: string): Attributes {
    return this.cached(`c|${topic}|${code}`, () => ({
      ...this.topicAttrs(topic),
      [ATTR.DEAD_LETTER_CODE]: code,
    }));
  }

  private reasonAttrs(topic: string, partition: number, reason: string): Attributes {
    return this.cached(`r|${topic}|${partition}|${reason}`, () => ({
      ...this.partitionAttrs(topic, partition),
      [ATTR.PAUSE_REASON]: reason,
    }));
  }

  private cached(key: string, make: () => Attributes): Attributes {
    let attrs = this.attrCache.get(key);
    if (!attrs) {
      // Bounded by topics × partitions × sinks/codes/reasons; a runaway key set is not cached.
      attrs = make();
      if (this.attrCache.size < 10_000) this.attrCache.set(key, attrs);
    }
    return attrs;
  }
}

/** The `sink` name the micro-batcher gives dead-letter publishing in its retries. */
export const DEAD_LETTER_SINK = 'dead-letter';

function seriesKey(attributes: Attributes): string {
  return Object.entries(attributes)
    .map(([k, v]) => `${k}=${String(v)}`)
    .sort()
    .join('\u0000');
}

function opts(spec: MetricSpec, buckets?: number[]): MetricOptions {
  return {
    description: spec.description,
    unit: spec.unit,
    ...(buckets ? { advice: { explicitBucketBoundaries: buckets } } : {}),
  };
}

/**
 * Wraps a consumer's commitOffsets to time every commit request (give the result to CommitQueue
 * in place of the consumer).
 */
export function timedCommits(
  consumer: Pick<Source, 'commitOffsets'>,
  metrics: ConsumerMetrics,
): Pick<Source, 'commitOffsets'> {
  return {
    commitOffsets: async (offsets) => {
      const started = performance.now();
      try {
        await consumer.commitOffsets(offsets);
        metrics.commitFinished((performance.now() - started) / 1000);
      } catch (error) {
        metrics.commitFinished((performance.now() - started) / 1000, error);
        throw error;
      }
    },
  };
}
