/**
 * One pipeline's delivery path, in one place: a fetched message is decoded (or becomes a dead
 * letter), batched, delivered to the sinks (the micro-batcher acts on their Delivery values),
 * and its offset tracked until it may be committed. The runner (pipeline-consumer.ts) owns what
 * is shared across pipelines: the group, pauses, commits, memory and the stop.
 */
import type { AdaptiveBatchSize } from '../batching/adaptive.ts';
import { type BatchPayload, type BatchSummary, MicroBatcher } from '../batching/micro-batcher.ts';
import { OffsetTracker } from '../batching/offset-tracker.ts';
import type { Config } from '../config/schema.ts';
import { DeadLetterCode, DecodeError } from '../contract/errors.ts';
import type { RawMessage } from '../contract/raw-message.ts';
import type { Logger } from '../core/logger.ts';
import type { DeadLetter, DeadLetterPublisher, HeldMessage, MessageHeaders } from '../core/messages.ts';
import type { PauseReason } from '../core/pause-reason.ts';
import type { Sink } from '../core/sink.ts';
import type { BatchInstruments } from '../telemetry/instruments.ts';
import { heldBytes } from './held-message.ts';

export interface PipelineSpec<P extends BatchPayload<D>, D> {
  topic: string;
  /** Decodes one message; throws DecodeError for input the contract rejects. */
  decode(message: RawMessage): D;
  newPayload(): P;
  sinks: readonly Sink<P>[];
}

/** What a pipeline tells its runner. */
export interface PipelineHooks {
  /** Pause (true) or resume (false) this pipeline's topic for `reason`. */
  pause(reason: PauseReason, paused: boolean): void;
  /** Offsets below `offset` of `partition` may be committed. */
  committable(partition: number, offset: number): void;
  /** Dead letters acknowledged by the broker (of decoding and of sink rejections alike). */
  deadLettered(letters: readonly DeadLetter[]): void;
  batchDone(summary: BatchSummary): void;
  batchFailed(id: number, error: unknown, partitions: readonly number[]): void;
  /** Whether memory is above NORMAL (adaptive batches do not grow then). */
  underPressure(): boolean;
  /** `sink-slow`, `sink-retry` and `sink-rejected`, as the runner emits them. */
  emit(event: 'sink-slow' | 'sink-retry' | 'sink-rejected', payload: object): void;
  /** One write attempt of `sink` started or returned (the stalled-write health check). */
  sinkWrite?(token: object, sink: string, running: boolean): void;
}

export interface PipelineOptions {
  config: Config;
  logger: Logger;
  deadLetters: DeadLetterPublisher;
  adaptive: AdaptiveBatchSize;
  instruments?: BatchInstruments;
  hooks: PipelineHooks;
}

// biome-ignore lint/suspicious/noExplicitAny: pipelines of different payload types run side by side
export class Pipeline<P extends BatchPayload<D> = any, D = any> {
  readonly tracker = new OffsetTracker();
  readonly batcher: MicroBatcher<P, D>;
  readonly adaptive: AdaptiveBatchSize;

  constructor(
    readonly spec: PipelineSpec<P, D>,
    private readonly options: PipelineOptions,
  ) {
    const { config, logger: log, hooks, deadLetters, adaptive } = options;
    const { batch, sink } = config;
    this.adaptive = adaptive;
    this.batcher = new MicroBatcher<P, D>({
      topic: spec.topic,
      limits: { ...batch, maxRows: adaptive.maxRows, maxBytes: adaptive.maxBytes },
      newPayload: spec.newPayload,
      decode: (message) => decodeHeld(spec, message),
      sinks: spec.sinks,
      deadLetters: {
        publish: async (letters) => {
          await deadLetters.publish(letters);
          hooks.deadLettered(letters);
        },
      },
      tracker: this.tracker,
      retry: { initialMs: sink.retryInitialMs, maxMs: sink.retryMaxMs },
      instruments: options.instruments,
      events: {
        onPause: (reason, paused) => hooks.pause(reason, paused),
        onCommittable: (partition, offset) => hooks.committable(partition, offset),
        onBatchDone: (summary) => {
          const pressure = hooks.underPressure();
          if (batch.adaptive && adaptive.onBatch({ ...summary, pressure }) && !pressure)
            this.batcher.setBatchSize(adaptive.maxRows, adaptive.maxBytes);
          hooks.batchDone(summary);
        },
        onSinkSlow: (name, batchId, millis) => {
          log.error(
            { sink: name, batch: batchId, seconds: Math.round(millis / 1000) },
            'sink write still running; its partitions stay uncommitted until it returns',
          );
          hooks.emit('sink-slow', { sink: name, batch: batchId, millis });
        },
        onSinkRetry: (name, error, attempt, delayMs) => {
          log.warn({ sink: name, attempt, delayMs, err: error }, 'sink write failed; retrying');
          hooks.emit('sink-retry', { sink: name, attempt, delayMs, error });
        },
        onSinkRejected: (name, batchId, messages, error) => {
          log.warn(
            { sink: name, batch: batchId, messages, err: error },
            'sink rejected records; splitting the batch to dead-letter only those',
          );
          hooks.emit('sink-rejected', { sink: name, batch: batchId, messages, error });
        },
        onWriteAttempt: (name, token, running) => hooks.sinkWrite?.(token, name, running),
        onBatchFailed: (id, error, partitions) => hooks.batchFailed(id, error, partitions),
      },
    });
  }

  /** Decodes one fetched message into the filling batch, or adds its dead letter there. */
  accept(held: HeldMessage): void {
    const bytes = heldBytes(held);
    let decoded: D;
    try {
      const limit = this.options.config.kafka.maxMessageBytes;
      if (bytes > limit) {
        throw new DecodeError(
          DeadLetterCode.MESSAGE_TOO_LARGE,
          `message of ${bytes} bytes exceeds kafka.maxMessageBytes (${limit})`,
        );
      }
      decoded = decodeHeld(this.spec, held);
    } catch (error) {
      this.batcher.addDeadLetter(toDeadLetter(this.spec.topic, held, error), bytes);
      return;
    }
    this.batcher.addDecoded(held, bytes, decoded);
  }

  /** After a (re)join: the filling batch is dropped and offsets are tracked afresh. */
  rejoined(): void {
    this.batcher.discardFilling();
    this.tracker.resetAll();
  }

  restoreBatchSize(): void {
    this.batcher.setBatchSize(this.adaptive.maxRows, this.adaptive.maxBytes);
  }

  halveBatchSize(): void {
    const { maxRows, maxBytes } = this.adaptive.halved(this.batcher.batchLimits);
    this.batcher.setBatchSize(maxRows, maxBytes);
  }
}

function headerText(headers: MessageHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

// biome-ignore lint/suspicious/noExplicitAny: any payload type
function decodeHeld<D>(spec: PipelineSpec<any, D>, message: HeldMessage): D {
  return spec.decode({
    value: message.value,
    key: message.key,
    header: (name) => headerText(message.headers, name),
  });
}

function toDeadLetter(topic: string, message: HeldMessage, error: unknown): DeadLetter {
  const decodeError = error instanceof DecodeError;
  return {
    ...message,
    topic,
    code: decodeError ? error.code : DeadLetterCode.DECODER_FAILED,
    reason: decodeError ? error.message : `decoder failed: ${(error as Error)?.message ?? String(error)}`,
  };
}
