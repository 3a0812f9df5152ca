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
 * - Sinks return their delivery as a value (core/sink.ts Delivery), and this is the one place that
 *   acts on it. `retry` is retried with backoff (the topic pauses meanwhile); `fatal` abandons the
 *   batch; `rejected` splits the batch in halves, re-decoded from the messages it holds, and writes
 *   them again, down to single messages: the ones the sink still rejects are dead-lettered
 *   (SINK_REJECTED) with its reason. Nothing is skipped silently. A `suspect` retry is tried
 *   SUSPECT_ATTEMPTS times at each size, then taken as a rejection.
 *
 * Long file: one state machine (filling, sealed, writing, retrying, isolating rejected records)
 * whose byte accounting must stay in one place to stay exact.
 */
import PQueue from 'p-queue';
import { DeadLetterCode } from '../contract/errors.ts';
import type { DeadLetter, DeadLetterPublisher, HeldMessage } from '../core/messages.ts';
import { PauseReason } from '../core/pause-reason.ts';
import {
  type BatchRange,
  type Delivery,
  deliver,
  deliveryError,
  deliveryOf,
  type Rejected,
  type Sink,
  type SinkBatch,
  type Written,
} from '../core/sink.ts';
import type { BatchInstruments, BatchObserver } from '../telemetry/instruments.ts';
import { LinkCollector } from '../telemetry/tracing.ts';
import type { OffsetRange, OffsetTracker } from './offset-tracker.ts';
import { type BackoffOptions, backoffDelay } from './retry.ts';

/**
 * Attempts of a write that fails with a suspect retry (Delivery `suspect`) before the batch is split
 * as if rejected: a single message that still fails is dead-lettered (SINK_REJECTED).
 */
export const SUSPECT_ATTEMPTS = 3;

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
  /** One write attempt of `sink` (or of the dead-letter publisher) started or returned. */
  onWriteAttempt?(sink: string, token: object, running: boolean): void;
  /** A sink write has been running for `millis` (reported every `stallWarnMs` while it lasts). */
  onSinkSlow?(sink: string, batchId: number, millis: number): void;
  /** A sink rejected the content of (part of) a batch: it is being split to find the records. */
  onSinkRejected?(sink: string, batchId: number, messages: number, error: unknown): void;
  /**
   * A batch was abandoned: the pipeline stopped while a sink was failing, or a sink failed in a
   * way no retry can mend (e.g. its store is misconfigured). Nothing past it is committed.
   */
  onBatchFailed?(id: number, error: unknown, partitions: readonly number[]): void;
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
  /** The decoded messages, in fetch order (bounded by maxRows and counted in bytes). */
  held: HeldMessage[];
  deadLetters: DeadLetter[];
  ranges: Map<number, { first: number; last: number; bytes: number }>;
  messages: number;
  bytes: number;
  lingerTimer?: NodeJS.Timeout;
}

export interface MicroBatcherOptions<P, D> {
  topic: string;
  limits: BatchLimits;
  newPayload(): P;
  /** Decodes a held message again (to rebuild part of a batch a sink rejected). */
  decode(message: HeldMessage): D;
  sinks: readonly Sink<P>[];
  deadLetters: DeadLetterPublisher;
  tracker: OffsetTracker;
  retry: BackoffOptions;
  events: MicroBatcherEvents;
  /** Report a sink write still running after this long, and again every period (default 60 s). */
  stallWarnMs?: number;
  /** Spans and batch metrics, each an observer of the same points (telemetry/instruments.ts); none when absent. */
  instruments?: BatchInstruments;
}

interface SinkOutcome {
  written: number;
  skipped?: boolean;
  /** Messages the sink rejected, as dead letters (SINK_REJECTED). */
  rejected: DeadLetter[];
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

  constructor(private readonly options: MicroBatcherOptions<P, D>) {
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

  addDecoded(message: HeldMessage, bytes: number, decoded: D): void {
    const { partition, offset } = message;
    this.filling.payload.add(decoded, { topic: this.options.topic, partition, offset });
    this.filling.held.push(message);
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
      .catch((error: unknown) =>
        this.options.events.onBatchFailed?.(batch.id, error, [...batch.ranges.keys()]),
      );
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
    const trace = this.options.instruments?.startBatch({
      topic: this.options.topic,
      id: batch.id,
      ranges: sinkBatch.ranges,
      messages: batch.messages,
      bytes: batch.bytes,
      deadLetters: batch.deadLetters.length,
      links: linksOf(batch),
    });
    const publish = (letters: DeadLetter[]) => {
      const send = () =>
        this.delivered(
          'dead-letter',
          async () => {
            await this.options.deadLetters.publish(letters);
            return deliver.written(letters.length);
          },
          trace,
        );
      return trace ? trace.publishDeadLetters(letters, send) : send();
    };
    try {
      const results = await Promise.all([
        ...this.options.sinks.map((sink, i) =>
          this.sinkQueues[i]?.add(() => {
            const write = () => this.writeToSink(sink, sinkBatch, batch.held, trace);
            return trace ? trace.writeSink(sink.name, write) : write();
          }),
        ),
        publish(batch.deadLetters),
      ]);
      const written: Record<string, number> = {};
      const rejected: DeadLetter[] = [];
      this.options.sinks.forEach((sink, i) => {
        const result = results[i] as SinkOutcome | undefined;
        written[sink.name] = result?.written ?? 0;
        rejected.push(...(result?.rejected ?? []));
      });
      if (rejected.length > 0) await publish(rejected);
      trace?.end();
      for (const range of ranges) {
        const commit = this.options.tracker.complete(range);
        if (commit !== undefined) this.options.events.onCommittable(range.partition, commit);
      }
      this.options.events.onBatchDone?.({
        id: batch.id,
        messages: batch.messages,
        bytes: batch.bytes,
        deadLetters: batch.deadLetters.length + rejected.length,
        written,
        millis: performance.now() - started,
      });
    } catch (error) {
      trace?.fail(error);
      throw error;
    } finally {
      this.release(batch);
    }
  }

  private async writeToSink(
    sink: Sink<P>,
    batch: SinkBatch<P>,
    held: HeldMessage[],
    trace?: BatchObserver,
  ): Promise<SinkOutcome> {
    // A native store call cannot be cancelled; a write that does not return must at least be seen.
    const started = performance.now();
    const every = this.options.stallWarnMs ?? 60_000;
    const watchdog = setInterval(
      () => this.options.events.onSinkSlow?.(sink.name, batch.id, performance.now() - started),
      every,
    );
    watchdog.unref();
    try {
      const delivery = await this.delivered(sink.name, () => sink.writeBatch(batch), trace);
      if (delivery.status === 'written')
        return { written: delivery.written, skipped: delivery.skipped, rejected: [] };
      if (this.stopping) throw deliveryError(sink.name, delivery);
      return await this.isolate(sink, batch.id, held, delivery, trace);
    } finally {
      clearInterval(watchdog);
    }
  }

  /**
   * `messages` were rejected together by `sink`: write each half again (rebuilt from the held
   * bytes), and split what is still rejected until single messages remain; those are dead letters.
   */
  private async isolate(
    sink: Sink<P>,
    batchId: number,
    messages: HeldMessage[],
    rejection: Rejected,
    trace?: BatchObserver,
  ): Promise<SinkOutcome> {
    const error = deliveryError(sink.name, rejection);
    this.options.events.onSinkRejected?.(sink.name, batchId, messages.length, error);
    trace?.rejected(sink.name, messages.length, error);
    const [only] = messages;
    if (messages.length === 1 && only)
      return { written: 0, rejected: [this.letter(only, DeadLetterCode.SINK_REJECTED, error)] };
    const outcome: SinkOutcome = { written: 0, rejected: [] };
    const middle = Math.ceil(messages.length / 2);
    for (const half of [messages.slice(0, middle), messages.slice(middle)]) {
      const part = this.rebuild(batchId, half);
      outcome.rejected.push(...part.rejected);
      if (part.decoded.length === 0) continue;
      const delivery = await this.delivered(sink.name, () => sink.writeBatch(part.batch), trace);
      if (delivery.status !== 'written' && this.stopping) throw deliveryError(sink.name, delivery);
      const result =
        delivery.status === 'written'
          ? { written: delivery.written, rejected: [] }
          : await this.isolate(sink, batchId, part.decoded, delivery, trace);
      outcome.written += result.written;
      outcome.rejected.push(...result.rejected);
    }
    return outcome;
  }

  /** A sink batch of `messages`, decoded again; a message that no longer decodes is a dead letter. */
  private rebuild(
    id: number,
    messages: HeldMessage[],
  ): { batch: SinkBatch<P>; decoded: HeldMessage[]; rejected: DeadLetter[] } {
    const { topic } = this.options;
    const payload = this.options.newPayload();
    const decoded: HeldMessage[] = [];
    const rejected: DeadLetter[] = [];
    const ranges = new Map<number, { partition: number; first: number; last: number }>();
    for (const message of messages) {
      const { partition, offset } = message;
      try {
        payload.add(this.options.decode(message), { topic, partition, offset });
      } catch (error) {
        rejected.push(this.letter(message, DeadLetterCode.DECODER_FAILED, error));
        continue;
      }
      decoded.push(message);
      const range = ranges.get(partition);
      if (range) range.last = offset;
      else ranges.set(partition, { partition, first: offset, last: offset });
    }
    return { batch: { id, topic, payload, ranges: [...ranges.values()] }, decoded, rejected };
  }

  private letter(message: HeldMessage, code: DeadLetterCode, error: unknown): DeadLetter {
    const reason = error instanceof Error ? error.message : String(error);
    return { ...message, topic: this.options.topic, code, reason };
  }

  /**
   * Runs `attempt` until the store answers: `written` or `rejected` are returned; `retry` waits
   * with backoff and tries again (a `suspect` one SUSPECT_ATTEMPTS times, then it is a rejection);
   * `fatal`, or any failure once the pipeline is stopping, is thrown as the batch's failure. A
   * thrown error counts as the delivery it stands for (deliveryOf).
   */
  private async delivered(
    name: string,
    attempt: () => Promise<Delivery>,
    trace?: BatchObserver,
  ): Promise<Written | Rejected> {
    const { events } = this.options;
    for (let attempts = 1; ; attempts++) {
      const token = {};
      events.onWriteAttempt?.(name, token, true);
      let delivery: Delivery;
      let thrown: unknown;
      try {
        delivery = await attempt();
      } catch (error) {
        thrown = error;
        delivery = deliveryOf(error);
      } finally {
        events.onWriteAttempt?.(name, token, false);
      }
      if (delivery.status === 'written' || delivery.status === 'rejected')
        return this.answered(name, delivery);
      // A thrown error is reported as itself (its type may matter: an undeliverable dead letter).
      const error = thrown ?? deliveryError(name, delivery);
      if (delivery.status === 'fatal' || this.stopping) throw error;
      if (delivery.suspect && attempts >= SUSPECT_ATTEMPTS) {
        // Evidence that the records are at fault: the store's own remedy ran before each attempt.
        return this.answered(
          name,
          deliver.rejected(
            `${delivery.reason} (still failing after ${SUSPECT_ATTEMPTS} attempts: taken as the content's fault)`,
            error,
          ),
        );
      }
      const delayMs = backoffDelay(attempts, this.options.retry);
      if (this.failingSinks.size === 0) events.onPause(PauseReason.SINK_FAILURE, true);
      this.failingSinks.add(name);
      events.onSinkRetry?.(name, error, attempts, delayMs);
      trace?.retry(name, attempts, delayMs, error);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }

  /** The store answered `name` (wrote or refused): it is not failing any more. */
  private answered<D extends Written | Rejected>(name: string, delivery: D): D {
    if (this.failingSinks.delete(name) && this.failingSinks.size === 0) {
      this.options.events.onPause(PauseReason.SINK_FAILURE, false);
    }
    return delivery;
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
      held: [],
      deadLetters: [],
      ranges: new Map(),
      messages: 0,
      bytes: 0,
    };
  }
}

/** The producers' span contexts (`traceparent`) of the messages a batch carries, bounded. */
function linksOf(batch: { held: HeldMessage[]; deadLetters: DeadLetter[] }): LinkCollector {
  const links = new LinkCollector();
  for (const m of batch.held) links.addFromHeaders(m.headers, m.partition, m.offset);
  for (const m of batch.deadLetters) links.addFromHeaders(m.headers, m.partition, m.offset);
  return links;
}
