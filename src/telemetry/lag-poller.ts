/**
 * Consumer lag for the lag gauge (docs/telemetry.md, `messaging.kafka.consumer.lag`): end offsets
 * polled on an interval against the offsets this member committed.
 */
import type { Logger } from '../core/logger.ts';
import type { PartitionLag } from './metrics.ts';

export interface EndOffsets {
  topic: string;
  partition: number;
  /** The high watermark: the offset the next produced message gets. */
  high: number;
  /** The earliest offset still in the log. */
  low: number;
}

export interface KnownPosition {
  topic: string;
  partition: number;
  /** The next offset to consume as this member knows it (its last commit); undefined: not yet. */
  offset: number | undefined;
}

export interface LagPollerOptions {
  /** High and low watermarks of these topics' partitions (adminOffsets(admin).endOffsets). */
  endOffsets(topics: readonly string[]): Promise<readonly EndOffsets[]>;
  /** The group's committed offsets (adminOffsets(admin, groupId).committedOffsets); optional. */
  committedOffsets?(
    topics: readonly string[],
  ): Promise<readonly { topic: string; partition: number; offset: number }[]>;
  /** The partitions to report (this member's assignment) and the offsets the consumer committed. */
  positions(): Iterable<KnownPosition>;
  intervalMs: number;
  /** A poll taking longer is abandoned (default: the interval, at most 10 s). */
  timeoutMs?: number;
  /** At most this many partitions are reported (default 10,000). */
  maxPartitions?: number;
  /** A failed or timed-out poll is logged here (`lag poll failed`, warn). */
  logger?: Logger;
  onError?(error: unknown): void;
}

/**
 * Polls end offsets on an interval (one poll in flight at most, each with a timeout) and computes
 * each reported partition's lag: high watermark minus the committed offset (the larger of the
 * group's and the one this member last committed; the low watermark when neither exists).
 */
export class LagPoller {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private latest: PartitionLag[] = [];
  private latestAt = -Infinity;
  private stopped = false;

  constructor(private readonly options: LagPollerOptions) {}

  start(): void {
    if (this.timer) return;
    this.stopped = false;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Stops polling; a poll in flight is awaited, its result discarded. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
    this.latest = [];
  }

  /**
   * The lag of each reported partition from the last successful poll. While polls fail, the last
   * values stay (an alert on lag must not clear because the admin API is unreachable; each
   * failure is logged).
   */
  lags(): readonly PartitionLag[] {
    return this.latest;
  }

  /** performance.now() of the last successful poll (-Infinity before the first). */
  get lastSuccessAt(): number {
    return this.latestAt;
  }

  /** Polls now (unless a poll is in flight, which is awaited instead). */
  poll(): Promise<void> {
    this.inFlight ??= this.pollOnce().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async pollOnce(): Promise<void> {
    const timeoutMs = this.options.timeoutMs ?? Math.min(this.options.intervalMs, 10_000);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`lag poll timed out after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const lags = await Promise.race([this.compute(), timeout]);
      if (this.stopped) return;
      this.latest = lags;
      this.latestAt = performance.now();
    } catch (error) {
      if (this.stopped) return;
      this.options.logger?.warn({ err: error }, 'lag poll failed');
      this.options.onError?.(error);
    } finally {
      clearTimeout(timer);
    }
  }

  private async compute(): Promise<PartitionLag[]> {
    const max = this.options.maxPartitions ?? 10_000;
    const positions: KnownPosition[] = [];
    for (const p of this.options.positions()) {
      if (positions.length >= max) break;
      positions.push(p);
    }
    const topics = [...new Set(positions.map((p) => p.topic))];
    if (topics.length === 0) return [];
    const [ends, committed] = await Promise.all([
      this.options.endOffsets(topics),
      this.options.committedOffsets?.(topics) ?? Promise.resolve([]),
    ]);
    const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;
    const endBy = new Map(ends.map((e) => [key(e.topic, e.partition), e]));
    const committedBy = new Map(committed.map((c) => [key(c.topic, c.partition), c.offset]));
    const out: PartitionLag[] = [];
    for (const p of positions) {
      const end = endBy.get(key(p.topic, p.partition));
      if (!end) continue;
      const group = committedBy.get(key(p.topic, p.partition));
      const known = Math.max(p.offset ?? -1, group ?? -1);
      const from = known >= 0 ? known : end.low;
      out.push({ topic: p.topic, partition: p.partition, lag: Math.max(0, end.high - from) });
    }
    return out;
  }
}
