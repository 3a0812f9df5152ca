/**
 * The runner: one consumer-group member running one or more pipelines. It takes fetched batches
 * from its Source (src/core/source.ts; kafkajs by default, kafkajs-source.ts) and hands each
 * message to its topic's Pipeline (pipeline.ts: decode, batch, deliver, track). It owns what the
 * pipelines share: the assignment and its generations, per-partition pauses, the commit queue,
 * the memory policy, telemetry wiring and the graceful stop.
 *
 * Long file: those shared concerns meet here (each one's logic is in its own module: commit-queue,
 * pause-controller, memory-policy, lag-poller); what is left is their wiring and the stop sequence.
 */
import { EventEmitter } from 'node:events';
import { type Kafka, Partitioners, type Producer } from 'kafkajs';
import {
  LEVEL_NAMES,
  MemoryLevel,
  MemoryMonitor,
  type MemorySample,
} from '../backpressure/memory-monitor.ts';
import { MemoryPolicy } from '../backpressure/memory-policy.ts';
import { PauseController } from '../backpressure/pause-controller.ts';
import { AdaptiveBatchSize } from '../batching/adaptive.ts';
import type { BatchPayload, BatchSummary } from '../batching/micro-batcher.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../core/logger.ts';
import type { DeadLetter, DeadLetterPublisher } from '../core/messages.ts';
import { PauseReason } from '../core/pause-reason.ts';
import type { Sink } from '../core/sink.ts';
import type { FetchedBatch, Source } from '../core/source.ts';
import { BatchMetrics } from '../telemetry/batch-metrics.ts';
import { type HealthServer, READINESS } from '../telemetry/health.ts';
import { combineInstruments } from '../telemetry/instruments.ts';
import { LagPoller } from '../telemetry/lag-poller.ts';
import { type ConsumerMetrics, timedCommits } from '../telemetry/metrics.ts';
import type { BatchTracer } from '../telemetry/tracing.ts';
import { CommitQueue } from './commit-queue.ts';
import { DeadLetterUndeliverableError, KafkaDeadLetterPublisher } from './dead-letter.ts';
import { adminOffsets } from './kafka-offsets.ts';
import { KafkajsSource } from './kafkajs-source.ts';
import { Pipeline, type PipelineSpec } from './pipeline.ts';
import { deadLetterMaxBytes } from './topics.ts';

/** Longest stretch of decoding in `eachBatch` between two yields and heartbeats. */
const DECODE_SLICE_MS = 200;

export interface ConsumerStats {
  messages: number;
  deadLetters: Record<string, number>;
  written: Record<string, number>;
  batches: number;
}

export interface PipelineConsumerOptions {
  /** The cluster: the default source, the dead-letter producer and the lag poller use it. */
  kafka?: Kafka;
  /** Replaces the kafkajs consumer (unit tests drive the runner with a fake source). */
  source?: Source;
  config: Config;
  logger: Logger;
  // biome-ignore lint/suspicious/noExplicitAny: pipelines of different payload types run side by side
  pipelines: PipelineSpec<any, any>[];
  /** Replaces the Kafka dead-letter producer (tests). */
  deadLetters?: DeadLetterPublisher;
  /** Metrics, spans and health (docs/telemetry.md); each optional. */
  telemetry?: ConsumerTelemetry;
  /** Test only: awaited before each fetched batch is handled (a consume loop stalled on purpose). */
  beforeBatch?: () => Promise<void>;
  /**
   * Awaited once the sinks are open and before any Kafka connection (e.g. creating the topics):
   * a store that cannot start (a refused database) fails the start before Kafka is reached.
   */
  afterSinksStart?: () => Promise<void>;
}

export interface ConsumerTelemetry {
  metrics?: ConsumerMetrics;
  tracing?: BatchTracer;
  health?: HealthServer;
  /** Poll consumer lag this often for the lag gauge (needs metrics); 0 or absent: never. */
  lagIntervalMs?: number;
}

/**
 * Events: `batch` (BatchSummary), `commit` ({topic, partition, offset}), `pause` / `resume`
 * ({topic, partitions, reasons}), `sink-retry` ({sink, attempt, delayMs, error}), `sink-slow`
 * ({sink, batch, millis}: a write still running after a minute), `sink-rejected` ({sink, batch,
 * messages, error}: a sink refused records; the batch is being split), `memory-level` ({level}),
 * `joined` (assignment), `dead-letters` ({topic, partition, offset, code, reason}[]: published),
 * `failed` ({batch?, error}: a batch no retry can write, or kafkajs gave
 * up; the owner should stop the consumer, and `failure` holds the error).
 */
export class PipelineConsumer extends EventEmitter {
  readonly stats: ConsumerStats = { messages: 0, deadLetters: {}, written: {}, batches: 0 };
  private readonly source: Source;
  private readonly producer: Producer | undefined;
  private readonly pipelines = new Map<string, Pipeline>();
  private readonly pauses: PauseController;
  private readonly commits: CommitQueue;
  private readonly log: Logger;
  private stopping: Promise<boolean> | undefined;
  /** Set when a batch failed permanently: the consumer must stop and report failure. */
  failure: unknown;
  private readonly memory: MemoryMonitor | undefined;
  /** This member's partitions per topic, from the last join. */
  private assignment = new Map<string, number[]>();
  /** The offsets this member committed, `topic:partition` -> offset (for the lag gauge). */
  private readonly committed = new Map<string, number>();
  private lag: { poller: LagPoller; close(): Promise<void> } | undefined;

  constructor(private readonly options: PipelineConsumerOptions) {
    super();
    const { kafka, config } = options;
    this.log = options.logger.child({ component: 'consumer' });
    if (!kafka && (!options.source || !options.deadLetters))
      throw new Error('PipelineConsumer needs `kafka`, or both a `source` and a `deadLetters` publisher');
    this.source = options.source ?? new KafkajsSource(kafka as Kafka, config);
    this.producer = options.deadLetters
      ? undefined
      : kafka?.producer({
          allowAutoTopicCreation: false,
          idempotent: true,
          maxInFlightRequests: 1,
          // murmur2 on the key, as the Java client does: one site key, one partition.
          createPartitioner: Partitioners.DefaultPartitioner,
        });
    this.pauses = new PauseController({
      pause: (topic, partitions) => this.setPaused(topic, partitions, true),
      resume: (topic, partitions) => this.setPaused(topic, partitions, false),
    });
    if (config.memoryBudget) {
      this.memory = new MemoryMonitor({
        budget: config.memoryBudget,
        intervalMs: config.memory.sampleIntervalMs,
        logger: this.log,
        pipelineBytes: () => this.bytesHeld,
      });
      const policy = new MemoryPolicy({
        pipelines: () =>
          [...this.pipelines].map(([topic, p]) => ({
            topic,
            bytesByPartition: p.batcher.bytesByPartition,
            flush: () => p.batcher.flush(),
            restoreBatchSize: () => p.restoreBatchSize(),
            halveBatchSize: () => p.halveBatchSize(),
          })),
        pauses: this.pauses,
        logger: this.log,
      });
      this.memory.on('level', (level: MemoryLevel) => {
        this.emit('memory-level', { level: LEVEL_NAMES[level] });
        policy.onLevel(level);
      });
      this.memory.on('sample', (sample: MemorySample) => policy.onSample(sample));
    }
    const { metrics, tracing } = options.telemetry ?? {};
    this.commits = new CommitQueue(
      metrics ? timedCommits(this.source, metrics) : this.source,
      this.log,
      (c) => {
        this.committed.set(`${c.topic}:${c.partition}`, c.offset);
        tracing?.committed(c.topic, c.partition, c.offset);
        this.emit('commit', c);
      },
    );
    const deadLetters =
      options.deadLetters ??
      new KafkaDeadLetterPublisher(
        this.producer as Producer,
        config.topics.deadLetter,
        config.kafka.groupId,
        deadLetterMaxBytes(config),
      );
    for (const spec of options.pipelines)
      this.pipelines.set(spec.topic, this.createPipeline(spec, deadLetters));
    if (metrics) this.observe(metrics);
  }

  private observe(metrics: ConsumerMetrics): void {
    metrics.declarePipelines(
      [...this.pipelines.values()].map(({ spec }) => ({
        topic: spec.topic,
        sinks: spec.sinks.map((s: Sink<unknown>) => s.name),
      })),
    );
    metrics.observePaused(() => ({ assigned: this.assignment, paused: this.pauses.paused() }));
    metrics.observeHeldBytes(() =>
      [...this.pipelines].map(([topic, p]) => ({ topic, bytes: p.batcher.bytesHeld })),
    );
    const budget = this.options.config.memoryBudget;
    if (this.memory && budget) {
      let used: number | undefined;
      this.memory.on('sample', (sample: MemorySample) => {
        used = sample.usedBytes;
      });
      metrics.observeMemory(() => ({
        level: this.memory?.level ?? MemoryLevel.NORMAL,
        usedBytes: used,
        limitBytes: budget.limitBytes,
        thresholds: {
          warning: budget.warningBytes,
          critical: budget.criticalBytes,
          emergency: budget.emergencyBytes,
        },
      }));
    }
  }

  /** Bytes all pipelines hold: fetched, batched and being written. */
  get bytesHeld(): number {
    let total = 0;
    for (const p of this.pipelines.values()) total += p.batcher.bytesHeld;
    return total;
  }

  async start(): Promise<void> {
    const { health, metrics, lagIntervalMs } = this.options.telemetry ?? {};
    this.memory?.start();
    for (const { spec } of this.pipelines.values()) for (const sink of spec.sinks) await sink.start();
    health?.setReady(READINESS.SINKS_OPEN, true);
    await this.options.afterSinksStart?.();
    await this.producer?.connect();
    if (metrics && lagIntervalMs && lagIntervalMs > 0 && this.options.kafka)
      await this.startLag(this.options.kafka, metrics, lagIntervalMs);
    await this.source.run([...this.pipelines.keys()], {
      batch: (batch) => this.onBatch(batch),
      assigned: (assignment) => this.onGroupJoin(assignment),
      // The client gave up: nothing is fetched any more. Stop (non-zero) so the process is
      // restarted instead of idling.
      fatal: (error) => {
        if (this.stopping) return;
        this.log.error({ err: error }, 'kafkajs consumer crashed and will not restart: stopping');
        health?.setFatal('kafkajs consumer crashed and will not restart');
        this.failure ??= error;
        this.emit('failed', { error });
      },
      // A fetch starting is progress too: an idle, caught-up consumer is alive.
      fetching: () => health?.progress(),
      connected: (up) => health?.setReady(READINESS.KAFKA_CONNECTED, up),
      rebalancing: () => health?.setReady(READINESS.GROUP_JOINED, false, 'rebalancing'),
    });
  }

  /**
   * Graceful stop: stop fetching, flush and write what is buffered, commit, leave the group.
   * Resolves true when everything buffered was committed within the grace period.
   */
  stop(): Promise<boolean> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async startLag(kafka: Kafka, metrics: ConsumerMetrics, intervalMs: number): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    const poller = new LagPoller({
      ...adminOffsets(admin, this.options.config.kafka.groupId),
      positions: () =>
        [...this.assignment].flatMap(([topic, partitions]) =>
          partitions.map((partition) => ({
            topic,
            partition,
            offset: this.committed.get(`${topic}:${partition}`),
          })),
        ),
      intervalMs,
      logger: this.log,
    });
    const unregister = metrics.observeLag(() => poller.lags());
    poller.start();
    this.lag = {
      poller,
      close: async () => {
        unregister();
        await poller.stop();
        await admin.disconnect().catch(() => undefined);
      },
    };
  }

  private async shutdown(): Promise<boolean> {
    const graceMs = this.options.config.shutdownGraceMs;
    const { health, tracing } = this.options.telemetry ?? {};
    health?.setStopping();
    this.memory?.stop();
    try {
      for (const topic of this.pipelines.keys()) this.source.pause(topic);
    } catch (error) {
      this.log.warn({ err: error }, 'pause before stop failed');
    }
    const drained = this.drainAll().then(() => true);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, graceMs - 2_000));
    });
    const clean = await Promise.race([drained, expired]);
    clearTimeout(timer);
    if (!clean) {
      this.log.error(
        { graceMs },
        'grace period ran out before buffered batches were written; they will be re-read',
      );
      for (const p of this.pipelines.values()) p.batcher.stop();
    }
    await this.source
      .disconnect()
      .catch((e: Error) => this.log.warn({ err: e }, 'consumer disconnect failed'));
    await this.producer?.disconnect().catch(() => undefined);
    await this.lag?.close();
    tracing?.close();
    for (const { spec } of this.pipelines.values()) for (const sink of spec.sinks) await sink.close();
    health?.setReady(READINESS.SINKS_OPEN, false);
    return clean;
  }

  private async drainAll(): Promise<void> {
    await Promise.all([...this.pipelines.values()].map((p) => p.batcher.drain()));
    await this.commits.idle();
  }

  private async onBatch(batch: FetchedBatch): Promise<void> {
    await this.options.beforeBatch?.();
    this.options.telemetry?.health?.progress();
    const pipeline = this.pipelines.get(batch.topic);
    if (!pipeline) return;
    let accepted = 0;
    // Decoding a fetched batch must not starve the group session: every DECODE_SLICE_MS the loop
    // yields to the event loop (timers, the commit queue) and heartbeats (kafkajs sends one when
    // its heartbeat interval has passed), so only one message's decode, bounded by the per-message
    // limits, runs between two chances to heartbeat.
    let sliceStarted = performance.now();
    for (const message of batch.messages) {
      if (this.stopping || !batch.live()) break;
      this.stats.messages++;
      pipeline.accept(message);
      batch.resolve(message.offset);
      accepted++;
      if (performance.now() - sliceStarted >= DECODE_SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        await batch.heartbeat();
        sliceStarted = performance.now();
      }
    }
    if (accepted > 0)
      this.options.telemetry?.metrics?.messagesConsumed(batch.topic, batch.partition, accepted);
    await batch.heartbeat();
  }

  private countDeadLetters(letters: readonly DeadLetter[]): void {
    for (const { code } of letters) this.stats.deadLetters[code] = (this.stats.deadLetters[code] ?? 0) + 1;
    if (letters.length > 0)
      this.emit(
        'dead-letters',
        letters.map(({ topic, partition, offset, code, reason }) => ({
          topic,
          partition,
          offset,
          code,
          reason,
        })),
      );
  }

  /** After every (re)join the partitions are re-read from their committed offsets. */
  private onGroupJoin(assignment: Record<string, number[]>): void {
    for (const p of this.pipelines.values()) p.rejoined();
    this.commits.clear();
    this.committed.clear();
    this.assignment = new Map([...this.pipelines.keys()].map((topic) => [topic, assignment[topic] ?? []]));
    const { tracing, health } = this.options.telemetry ?? {};
    tracing?.rebalanced();
    health?.setReady(READINESS.GROUP_JOINED, true);
    for (const topic of this.pipelines.keys()) this.pauses.setAssignment(topic, assignment[topic] ?? []);
    this.log.info({ assignment }, 'joined consumer group');
    this.emit('joined', assignment);
  }

  private createPipeline<P extends BatchPayload<D>, D>(
    spec: PipelineSpec<P, D>,
    deadLetters: DeadLetterPublisher,
  ): Pipeline<P, D> {
    const { batch } = this.options.config;
    const adaptive = new AdaptiveBatchSize({ ceilingRows: batch.maxRows, ceilingBytes: batch.maxBytes });
    if (!batch.adaptive) {
      adaptive.maxRows = batch.maxRows;
      adaptive.maxBytes = batch.maxBytes;
    }
    const { tracing, metrics, health } = this.options.telemetry ?? {};
    return new Pipeline(spec, {
      config: this.options.config,
      logger: this.log,
      deadLetters,
      adaptive,
      // Spans and metrics: two observers of the same points (telemetry/instruments.ts).
      instruments: combineInstruments(tracing, metrics && new BatchMetrics(metrics)),
      hooks: {
        pause: (reason, paused) =>
          paused ? this.pauses.add(spec.topic, reason) : this.pauses.remove(spec.topic, reason),
        committable: (partition, offset) => this.commits.commit(spec.topic, partition, offset),
        // Counted once published (dead letters of decoding and of sink rejections alike).
        deadLettered: (letters) => this.countDeadLetters(letters),
        batchDone: (summary) => this.onBatchDone(summary),
        batchFailed: (id, error, partitions) => this.onBatchFailed(spec.topic, id, error, partitions),
        underPressure: () => (this.memory?.level ?? MemoryLevel.NORMAL) !== MemoryLevel.NORMAL,
        emit: (event, payload) => this.emit(event, payload),
        sinkWrite: health && ((token, name, running) => health.sinkWrite(token, name, running)),
      },
    });
  }

  /**
   * A batch no retry can write (or one abandoned by a stop). Nothing past it can be committed, so
   * rather than stall silently the consumer stops, and its exit code says it failed: the batch is
   * re-read when it starts again.
   */
  private onBatchFailed(topic: string, id: number, error: unknown, partitions: readonly number[]): void {
    if (this.stopping) {
      this.log.warn({ batch: id, err: error }, 'batch abandoned at stop; it will be re-read');
      return;
    }
    if (error instanceof DeadLetterUndeliverableError) {
      // A restart would re-read the message and fail the same way: stop these partitions instead,
      // once, with the error; the others go on. Nothing past the message is committed.
      this.pauses.add(topic, PauseReason.DEAD_LETTER_UNDELIVERABLE, [...partitions]);
      this.log.error(
        { batch: id, topic, partitions, err: error },
        'a dead letter cannot be published: these partitions are stopped until the dead-letter topic takes it (then restart)',
      );
      this.emit('partitions-stopped', { topic, partitions, error });
      return;
    }
    this.log.error({ batch: id, err: error }, 'batch failed permanently: stopping; it will be re-read');
    this.failure ??= error;
    this.emit('failed', { batch: id, error });
  }

  private onBatchDone(summary: BatchSummary): void {
    this.stats.batches++;
    for (const [name, n] of Object.entries(summary.written))
      this.stats.written[name] = (this.stats.written[name] ?? 0) + n;
    this.log.debug(summary, 'batch written');
    this.emit('batch', summary);
  }

  private setPaused(topic: string, partitions: number[], paused: boolean): void {
    if (!paused && this.stopping) return;
    try {
      if (paused) this.source.pause(topic, partitions);
      else this.source.resume(topic, partitions);
    } catch (error) {
      this.log.warn({ topic, partitions, err: error }, 'pause/resume failed');
      return;
    }
    const reasons = partitions.map((p) => this.pauses.reasonsOf(topic, p));
    this.log.info({ topic, partitions, reasons }, paused ? 'paused partitions' : 'resumed partitions');
    this.emit(paused ? 'pause' : 'resume', { topic, partitions, reasons: [...new Set(reasons.flat())] });
  }
}
