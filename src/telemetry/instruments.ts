/**
 * What the micro-batcher reports of each batch it writes, to any number of observers: the batch
 * spans (tracing.ts) and the batch metrics (batch-metrics.ts) are two independent observers of the
 * same points, so metrics are recorded whether or not spans are, and the other way round.
 */
import type { BatchRange } from '../core/sink.ts';
import type { LinkCollector } from './tracing.ts';

export interface BatchStart {
  topic: string;
  /** The micro-batcher's batch id. */
  id: number;
  ranges: readonly BatchRange[];
  /** Messages in the batch: decoded plus dead-lettered. */
  messages: number;
  bytes: number;
  deadLetters: number;
  links?: LinkCollector;
}

/** One batch, from its flush to its end (written everywhere) or its failure. */
export interface BatchObserver {
  /** Wraps one sink's write, with its retries. */
  writeSink<R extends { written: number; skipped?: boolean }>(
    sink: string,
    write: () => Promise<R>,
  ): Promise<R>;
  /** Wraps the publication of the batch's dead letters (called with none too). */
  publishDeadLetters<T>(letters: readonly { code: string }[], publish: () => Promise<T>): Promise<T>;
  /** A write of `sink` (or `dead-letter`) failed and will be retried. */
  retry(sink: string, attempt: number, delayMs: number, error: unknown): void;
  /** `sink` refused `messages` of the batch; they are being isolated. */
  rejected(sink: string, messages: number, error: unknown): void;
  end(): void;
  fail(error: unknown): void;
}

export interface BatchInstruments {
  startBatch(batch: BatchStart): BatchObserver;
}

/** Every given observer sees every point, in order; undefined when none is given. */
export function combineInstruments(
  ...all: ReadonlyArray<BatchInstruments | undefined>
): BatchInstruments | undefined {
  const list = all.filter((i): i is BatchInstruments => i !== undefined);
  if (list.length === 0) return undefined;
  const [only] = list;
  if (list.length === 1 && only) return only;
  return {
    startBatch(batch) {
      const observers = list.map((i) => i.startBatch(batch));
      return {
        writeSink: (sink, write) =>
          observers.reduceRight((inner, o) => () => o.writeSink(sink, inner), write)(),
        publishDeadLetters: (letters, publish) =>
          observers.reduceRight((inner, o) => () => o.publishDeadLetters(letters, inner), publish)(),
        retry: (...args) => {
          for (const o of observers) o.retry(...args);
        },
        rejected: (...args) => {
          for (const o of observers) o.rejected(...args);
        },
        end: () => {
          for (const o of observers) o.end();
        },
        fail: (error) => {
          for (const o of observers) o.fail(error);
        },
      };
    },
  };
}
