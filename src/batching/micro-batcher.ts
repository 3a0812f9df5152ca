/**
 * Accumulates one pipeline's decoded messages into micro-batches and writes them to the sinks.
 *
 * - A batch is flushed when it holds `maxRows` messages or `maxBytes` bytes, or `lingerMs` after
 *   its first message.
 * - At most `maxInFlight` batches are written at once. Each sink has its own FIFO queue, so a
 *   sink sees batches in fetch order (last write wins across batches too) while different sinks
 *   work on different batches at the same time.
 * - Bytes held (filling + sealed + being written) are bounded: at `budgetBytes` the pipeline asks
 *   to pause its topic, and resumes once a batch's worth has drained.
 * - A batch is done when every sink wrote it and its dead letters were published; only then are
 *   its offset ranges marked done, and the tracker yields the offsets that may be committed.
 */
import PQueue from 'p-queue';
import { PauseReason } from '../backpressure/pause-controller.ts';
import type { DeadLetter, DeadLetterPublisher } from '../consumers/dead-letter.ts';
import type { OffsetRange, OffsetTracker } from '../consumers/offset-tracker.ts';
import { type BackoffOptions, retryForever } from '../sinks/retry.ts';
import type { BatchRange, Sink, SinkBatch } from '../sinks/sink.ts';

export interface BatchLimits {
  maxRows: number;
  maxBytes: number;
  lingerMs: number;
  maxInFlight: number;
}

export interface BatchPayload<D> {
  add(decoded: D, lineage: { topic: string; partition: number; offset: number }): void;
}

export interface MicroBatcherEvents {
  /** The topic should pause (true) or may resume (false) for `reason`. */
  onPause(reason: PauseReason, paused: boolean): void;
  /** Offsets below `offset` of `partition` are done and may be committed. */
  onCommittable(partition: number, offset: number): void;
  onBatchDone?(summary: BatchSummary): void;
  onSinkRetry?(sink: string, error: unknown, attempt: number, delayMs: number): void;
  /** A sink write has been running for `millis` (reported every `stallWarnMs` while it lasts). */
  onSinkSlow?(sink: string, batchId: number, millis: number): void;
  /** A batch was abandoned (the pipeline stopped while a sink was failing): nothing was committed. */
  onBatchFailed?(id: number, error: unknown): void;
}

export interface BatchSummary {
  id: number;
  messages: number;
  bytes: number;
  deadLetters: number;
  written: Record<string, number>;
  millis: number;
}

interface FillingBatch<P> {
  id: number;
  payload: P;
  deadLetters: DeadLetter[];
  ranges: Map<number, { first: number; last: number; bytes: number }>;
  messages: number;
  bytes: number;
  lingerTimer?: NodeJS.Timeout;
}

export interface MicroBatcherOptions<P> {
  topic: string;
  limits: BatchLimits;
  newPayload(): P;
  sinks: readonly Sink<P>[];
  deadLetters: DeadLetterPublisher;
  tracker: OffsetTracker;
  retry: BackoffOptions;
  events: MicroBatcherEvents;
  /** Report a sink write still running after this long, and again every period (default 60 s). */
  stallWarnMs?: number;
}

export class MicroBatcher<P extends BatchPayload<D>, D> {
  private filling: FillingBatch<P>;
  private nextId = 1;
  private heldBytes = 0;
  private stopping = false;
  private overBudget = false;
  private readonly inFlight: PQueue;
  private readonly sinkQueues: PQueue[];
  private readonly failingSinks = new Set<string>();
  private readonly partitionBytes = new Map<number, number>();
  private limits: BatchLimits;

  constructor(private readonly options: MicroBatcherOptions<P>) {
    this.limits = { ...options.limits };
    this.filling = this.newBatch();
    this.inFlight = new PQueue({ concurrency: options.limits.maxInFlight });
    this.sinkQueues = options.sinks.map(() => new PQueue({ concurrency: 1 }));
  }

  /** Bytes of messages held by this pipeline: filling, sealed and being written. */
  get bytesHeld(): number {
    return this.heldBytes;
  }

  /** The byte budget: the filling batch, the batches in flight, and one more waiting. */
  get budgetBytes(): number {
    return this.limits.maxBytes * (this.limits.maxInFlight + 2);
  }

  /** Bytes held per partition (filling, sealed and being written). */
  get bytesByPartition(): ReadonlyMap<number, number> {
    return this.partitionBytes;
  }

  get batchLimits(): Readonly<BatchLimits> {
    return this.limits;
  }

  /** Changes rows and bytes per batch from the next message on (adaptive batching, emergencies). */
  setBatchSize(maxRows: number, maxBytes: number): void {
    this.limits = { ...this.limits, maxRows, maxBytes };
    const batch = this.filling;
    if (batch.messages >= maxRows || batch.bytes >= maxBytes) this.flush();
  }

  addDecoded(partition: number, offset: number, bytes: number, decoded: D): void {
    this.filling.payload.add(decoded, { topic: this.options.topic, partition, offset });
    this.account(partition, offset, bytes);
  }

  addDeadLetter(letter: DeadLetter, bytes: number): void {
    this.filling.deadLetters.push(letter);
    this.account(letter.partition, letter.offset, bytes);
  }

  /** Seals the filling batch (if it holds anything) and queues it for writing. */
  flush(): void {
    const batch = this.filling;
    if (batch.messages === 0) return;
    clearTimeout(batch.lingerTimer);
    this.filling = this.newBatch();
    const ranges = [...batch.ranges].map(([partition, r]) =>
      this.options.tracker.open(partition, r.first, r.last),
    );
    this.inFlight
      .add(() => this.write(batch, ranges))
      .catch((error: unknown) => this.options.events.onBatchFailed?.(batch.id, error));
  }

  /** Flushes and waits until every queued batch is written. */
  async drain(): Promise<void> {
    this.flush();
    await this.inFlight.onIdle();
  }

  /**
   * Drops the filling batch (after a rebalance, its partitions are re-read from the committed
   * offsets). Batches already sealed finish writing; their ranges belong to the old generation.
   */
  discardFilling(): void {
    clearTimeout(this.filling.lingerTimer);
    this.release(this.filling);
    this.filling = this.newBatch();
  }

  /** Stop retrying failing sinks: a pending write then fails and its batch is not committed. */
  stop(): void {
    this.stopping = true;
  }

  private account(partition: number, offset: number, bytes: number): void {
    const batch = this.filling;
    const range = batch.ranges.get(partition);
    if (range) {
      range.last = offset;
      range.bytes += bytes;
    } else batch.ranges.set(partition, { first: offset, last: offset, bytes });
    batch.messages++;
    batch.bytes += bytes;
    this.heldBytes += bytes;
    this.partitionBytes.set(partition, (this.partitionBytes.get(partition) ?? 0) + bytes);
    if (!this.overBudget && this.heldBytes >= this.budgetBytes) {
      this.overBudget = true;
      this.options.events.onPause(PauseReason.BUFFER_FULL, true);
    }
    const { maxRows, maxBytes, lingerMs } = this.limits;
    if (batch.messages >= maxRows || batch.bytes >= maxBytes) this.flush();
    else if (batch.messages === 1) batch.lingerTimer = setTimeout(() => this.flush(), lingerMs);
  }

  private async write(batch: FillingBatch<P>, ranges: OffsetRange[]): Promise<void> {
    const started = performance.now();
    const sinkBatch: SinkBatch<P> = {
      id: batch.id,
      topic: this.options.topic,
      payload: batch.payload,
      ranges: ranges.map((r): BatchRange => ({ partition: r.partition, first: r.first, last: r.last })),
    };
    try {
      const results = await Promise.all([
        ...this.options.sinks.map((sink, i) =>
          this.sinkQueues[i]?.add(() => this.writeToSink(sink, sinkBatch)),
        ),
        this.retrying('dead-letter', () => this.options.deadLetters.publish(batch.deadLetters)),
      ]);
      const written: Record<string, number> = {};
      this.options.sinks.forEach((sink, i) => {
        written[sink.name] = (results[i] as number | undefined) ?? 0;
      });
      for (const range of ranges) {
        const commit = this.options.tracker.complete(range);
        if (commit !== undefined) this.options.events.onCommittable(range.partition, commit);
      }
      this.options.events.onBatchDone?.({
        id: batch.id,
        messages: batch.messages,
        bytes: batch.bytes,
        deadLetters: batch.deadLetters.length,
        written,
        millis: performance.now() - started,
      });
    } finally {
      this.release(batch);
    }
  }

  private async writeToSink(sink: Sink<P>, batch: SinkBatch<P>): Promise<number> {
    // A native store call cannot be cancelled; a write that does not return must at least be seen.
    const started = performance.now();
    const every = this.options.stallWarnMs ?? 60_000;
    const watchdog = setInterval(
      () => this.options.events.onSinkSlow?.(sink.name, batch.id, performance.now() - started),
      every,
    );
    watchdog.unref();
    try {
      const result = await this.retrying(sink.name, () => sink.writeBatch(batch));
      return result.written;
    } finally {
      clearInterval(watchdog);
    }
  }

  private async retrying<T>(name: string, operation: () => Promise<T>): Promise<T> {
    const value = await retryForever(operation, this.options.retry, {
      shouldStop: () => this.stopping,
      onRetry: (error, attempt, delayMs) => {
        if (this.failingSinks.size === 0) this.options.events.onPause(PauseReason.SINK_FAILURE, true);
        this.failingSinks.add(name);
        this.options.events.onSinkRetry?.(name, error, attempt, delayMs);
      },
    });
    if (this.failingSinks.delete(name) && this.failingSinks.size === 0) {
      this.options.events.onPause(PauseReason.SINK_FAILURE, false);
    }
    return value;
  }

  private release(batch: FillingBatch<P>): void {
    this.heldBytes -= batch.bytes;
    for (const [partition, range] of batch.ranges) {
      const left = (this.partitionBytes.get(partition) ?? 0) - range.bytes;
      if (left > 0) this.partitionBytes.set(partition, left);
      else this.partitionBytes.delete(partition);
    }
    if (this.overBudget && this.heldBytes <= this.budgetBytes - this.limits.maxBytes) {
      this.overBudget = false;
      this.options.events.onPause(PauseReason.BUFFER_FULL, false);
    }
  }

  private newBatch(): FillingBatch<P> {
    return {
      id: this.nextId++,
      payload: this.options.newPayload(),
      deadLetters: [],
      ranges: new Map(),
      messages: 0,
      bytes: 0,
    };
  }
}
