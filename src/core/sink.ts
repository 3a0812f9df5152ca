/**
 * The sink lifecycle every store implements. Sinks write batches and report what they did; they
 * never touch Kafka offsets (only the offset tracker commits).
 */

/** The Kafka offsets one batch covers, per partition. */
export interface BatchRange {
  readonly partition: number;
  readonly first: number;
  readonly last: number;
}

export interface SinkBatch<P> {
  readonly id: number;
  readonly topic: string;
  readonly payload: P;
  readonly ranges: readonly BatchRange[];
}

/**
 * What one write did, as a value (the way Vector's finalizers report delivery): the runner decides
 * from it whether the batch is done, retried, split or abandoned; sinks never decide that.
 * - `written`: the batch is in the store (`written` rows, nodes and edges upserted; `skipped` when
 *   the sink found it already applied and wrote nothing).
 * - `rejected`: the store refuses these records; writing them again cannot succeed. The runner
 *   splits the batch, down to single messages, and dead-letters what is still rejected
 *   (SINK_REJECTED) with `reason`.
 * - `retry`: the store failed this time (I/O, lock, unreachable); the same batch is tried again
 *   with backoff, without limit. `suspect`: the failure may be the content's (Kuzu's "buffer pool
 *   is full" after the sink's own checkpoint); after SUSPECT_ATTEMPTS it is taken as a rejection.
 * - `fatal`: no retry can mend it (the store is misconfigured); the batch is abandoned and nothing
 *   past it is committed.
 */
export type Delivery =
  | { readonly status: 'written'; readonly written: number; readonly skipped?: boolean }
  | { readonly status: 'rejected'; readonly reason: string; readonly cause?: unknown }
  | {
      readonly status: 'retry';
      readonly reason: string;
      readonly suspect?: boolean;
      readonly cause?: unknown;
    }
  | { readonly status: 'fatal'; readonly reason: string; readonly cause?: unknown };

export type Written = Extract<Delivery, { status: 'written' }>;
export type Rejected = Extract<Delivery, { status: 'rejected' }>;
export type Retry = Extract<Delivery, { status: 'retry' }>;
export type Fatal = Extract<Delivery, { status: 'fatal' }>;

/** The four delivery values, built the same way by every sink. */
export const deliver = {
  written: (written: number, skipped?: boolean): Written =>
    skipped ? { status: 'written', written, skipped } : { status: 'written', written },
  rejected: (reason: string, cause?: unknown): Rejected => ({ status: 'rejected', reason, cause }),
  retry: (reason: string, options: { cause?: unknown; suspect?: boolean } = {}): Retry => ({
    status: 'retry',
    reason,
    ...options,
  }),
  fatal: (reason: string, cause?: unknown): Fatal => ({ status: 'fatal', reason, cause }),
};

/**
 * The delivery a thrown error stands for, when a sink (or the dead-letter publisher) throws
 * instead of returning: a RecordRejectedError is a rejection, `retriable: false` is fatal, and
 * anything else, an error the sink did not classify, is retried.
 */
export function deliveryOf(error: unknown): Delivery {
  const reason =
    error instanceof SinkError ? error.reason : error instanceof Error ? error.message : String(error);
  if (isRejection(error)) return deliver.rejected(reason, error);
  if ((error as { retriable?: unknown } | undefined)?.retriable === false)
    return deliver.fatal(reason, error);
  return deliver.retry(reason, { cause: error, suspect: isSuspect(error) });
}

/** The error a failed delivery of `sink` is reported (and thrown) as. */
export function deliveryError(sink: string, delivery: Rejected | Retry | Fatal): SinkError {
  if (
    delivery.cause instanceof SinkError &&
    delivery.cause.sink === sink &&
    delivery.cause.reason === delivery.reason
  )
    return delivery.cause;
  const options = { cause: delivery.cause };
  switch (delivery.status) {
    case 'rejected':
      return new RecordRejectedError(sink, delivery.reason, options);
    case 'retry':
      return new SinkError(sink, delivery.reason, true, { ...options, suspect: delivery.suspect });
    case 'fatal':
      return new SinkError(sink, delivery.reason, false, options);
  }
}

export interface Sink<P> {
  readonly name: string;
  /** Opens the store and creates tables. Safe to call once; `close` is safe before and twice. */
  start(): Promise<void>;
  /**
   * Upserts the batch and says what happened. Must be idempotent: the same batch twice leaves the
   * store unchanged. Failures are returned (see Delivery), not thrown.
   */
  writeBatch(batch: SinkBatch<P>): Promise<Delivery>;
  close(): Promise<void>;
}

/**
 * A sink failure, as reported to events and spans and thrown by `start()` (a write returns a
 * Delivery instead). `retriable` says whether trying the same batch again can help; `suspect` marks
 * a retriable failure that may be the content's fault rather than the store's (see Delivery).
 */
export class SinkError extends Error {
  readonly suspect: boolean;
  constructor(
    readonly sink: string,
    readonly reason: string,
    readonly retriable: boolean,
    options?: { cause?: unknown; suspect?: boolean },
  ) {
    super(`${sink}: ${reason}`, options);
    this.name = 'SinkError';
    this.suspect = options?.suspect ?? false;
  }
}

/** A retriable failure that may be about the records (see SinkError.suspect). */
export function isSuspect(error: unknown): boolean {
  return error instanceof SinkError && error.retriable && error.suspect;
}

/**
 * The store refuses the content of the batch (a `rejected` delivery, as an error): writing the same
 * records again cannot succeed.
 */
export class RecordRejectedError extends SinkError {
  constructor(sink: string, message: string, options?: { cause?: unknown }) {
    super(sink, message, false, options);
    this.name = 'RecordRejectedError';
  }
}

/** A failure that means "these records", not "this store right now". */
export function isRejection(error: unknown): error is RecordRejectedError {
  return error instanceof RecordRejectedError;
}
