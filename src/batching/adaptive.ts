/**
 * Adaptive batch size, additive-increase / multiplicative-decrease (in the spirit of Vector's
 * adaptive request concurrency): a batch that filled up and was written fast while memory was
 * NORMAL grows the next ones by an eighth of the ceiling; a slow write or any memory pressure
 * halves them. Sizes stay within [ceiling / 4, ceiling], the ceiling being the configured (or
 * memory-derived) batch.maxRows and batch.maxBytes: much smaller batches cost LanceDB more per row
 * and more table versions, which raised memory instead of lowering it (measured).
 *
 * It starts at the floor and grows only on evidence (a slow start, as TCP's). Started higher, a
 * slow sink's first batches were the largest of the run, and how long they lasted depended on the
 * first writes' timing: with both variant sinks, 5,000-row batches held for 20 s in one run and for
 * 2 minutes in another, and the allocator kept the high-water mark they left (~60 MiB of RSS).
 */

export interface AdaptiveOptions {
  ceilingRows: number;
  ceilingBytes: number;
  /** A write faster than this may grow the batch. */
  fastMillis?: number;
  /** A write slower than this shrinks it. */
  slowMillis?: number;
}

export interface BatchOutcome {
  messages: number;
  bytes: number;
  millis: number;
  /** True while memory is above NORMAL. */
  pressure: boolean;
}

export class AdaptiveBatchSize {
  maxRows: number;
  maxBytes: number;
  readonly minRows: number;
  readonly minBytes: number;
  private readonly fastMillis: number;
  private readonly slowMillis: number;

  constructor(private readonly options: AdaptiveOptions) {
    this.minRows = Math.max(1, Math.floor(options.ceilingRows / 4));
    this.minBytes = Math.max(64 * 1024, Math.floor(options.ceilingBytes / 4));
    this.maxRows = this.minRows;
    this.maxBytes = this.minBytes;
    this.fastMillis = options.fastMillis ?? 1_000;
    this.slowMillis = options.slowMillis ?? 5_000;
  }

  /** Half of `current` (an emergency's shrink), never below the floor. */
  halved(current: { maxRows: number; maxBytes: number }): { maxRows: number; maxBytes: number } {
    return {
      maxRows: Math.max(this.minRows, Math.floor(current.maxRows / 2)),
      maxBytes: Math.max(this.minBytes, Math.floor(current.maxBytes / 2)),
    };
  }

  /** Updates the size from one written batch; true when it changed. */
  onBatch(outcome: BatchOutcome): boolean {
    const before = `${this.maxRows}/${this.maxBytes}`;
    if (outcome.pressure || outcome.millis > this.slowMillis) {
      this.maxRows = Math.max(this.minRows, Math.floor(this.maxRows / 2));
      this.maxBytes = Math.max(this.minBytes, Math.floor(this.maxBytes / 2));
    } else if (
      outcome.millis < this.fastMillis &&
      (outcome.messages >= this.maxRows * 0.9 || outcome.bytes >= this.maxBytes * 0.9)
    ) {
      this.maxRows = Math.min(
        this.options.ceilingRows,
        this.maxRows + Math.ceil(this.options.ceilingRows / 8),
      );
      this.maxBytes = Math.min(
        this.options.ceilingBytes,
        this.maxBytes + Math.ceil(this.options.ceilingBytes / 8),
      );
    }
    return before !== `${this.maxRows}/${this.maxBytes}`;
  }
}
