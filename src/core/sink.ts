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

export interface SinkResult {
  /** Rows (or nodes and edges) the sink upserted. */
  readonly written: number;
  /** True when the sink found the whole batch already applied and wrote nothing. */
  readonly skipped?: boolean;
}

export interface Sink<P> {
  readonly name: string;
  /** Opens the store and creates tables. Safe to call once; `close` is safe before and twice. */
  start(): Promise<void>;
  /** Upserts the batch. Must be idempotent: the same batch twice leaves the store unchanged. */
  writeBatch(batch: SinkBatch<P>): Promise<SinkResult>;
  close(): Promise<void>;
}

/**
 * A sink failure. `retriable` says whether trying the same batch again can help. `suspect` marks a
 * retriable failure that may be the content's fault rather than the store's (Kuzu's "buffer pool
 * is full": a checkpoint frees the pool, unless one message alone needs more than it holds). The
 * micro-batcher retries a suspect failure a few times, then splits the batch like a rejection.
 */
export class SinkError extends Error {
  readonly suspect: boolean;
  constructor(
    readonly sink: string,
    message: string,
    readonly retriable: boolean,
    options?: { cause?: unknown; suspect?: boolean },
  ) {
    super(`${sink}: ${message}`, options);
    this.name = 'SinkError';
    this.suspect = options?.suspect ?? false;
  }
}

/** A retriable failure that may be about the records (see SinkError.suspect). */
export function isSuspect(error: unknown): boolean {
  return error instanceof SinkError && error.retriable && error.suspect;
}

/**
 * The store refuses the content of the batch: writing the same records again cannot succeed. The
 * micro-batcher then splits the batch until it finds the records the store refuses, and
 * dead-letters those (code SINK_REJECTED) with this error's message.
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
