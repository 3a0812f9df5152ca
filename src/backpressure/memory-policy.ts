/**
 * What the pipelines do at each memory level (the levels come from MemoryMonitor's `nextLevel`):
 * - WARNING pauses the partitions holding the most bytes (together at least half of what is held);
 * - CRITICAL pauses every partition and flushes now;
 * - EMERGENCY also halves batch sizes, again every second while it lasts, down to the adaptive
 *   floor (a quarter of the ceiling);
 * - NORMAL resumes everything paused for memory and restores the adaptive batch sizes.
 * Pausing can only free what the pipelines hold: when they hold nothing and memory stays above
 * NORMAL for 5 s, it is held elsewhere (the allocator, the stores' caches), and the partitions
 * paused for memory resume rather than stall forever.
 *
 * It acts only through the interfaces below (pauses, the pipelines' batch sizes and flushes), so
 * every transition is unit-tested without a consumer (test/unit/backpressure/memory-policy.test.ts).
 */
import type { Logger } from '../core/logger.ts';
import { PauseReason } from '../core/pause-reason.ts';
import { LEVEL_NAMES, MemoryLevel, type MemorySample } from './memory-monitor.ts';

/** One pipeline, as the policy sees it. */
export interface PolicyPipeline {
  readonly topic: string;
  /** Bytes held per partition (filling, sealed and being written). */
  readonly bytesByPartition: ReadonlyMap<number, number>;
  flush(): void;
  /** Back to the adaptive batch size. */
  restoreBatchSize(): void;
  /** Half the current batch size, not below the adaptive floor. */
  halveBatchSize(): void;
}

export interface PolicyPauses {
  add(topic: string, reason: PauseReason, partitions?: number[]): void;
  clear(reason: PauseReason): void;
  paused(): readonly unknown[];
}

export interface MemoryPolicyOptions {
  pipelines: () => Iterable<PolicyPipeline>;
  pauses: PolicyPauses;
  logger: Logger;
  /** Monotonic milliseconds (tests replace it). */
  now?: () => number;
  /** How long memory may stay high with nothing held before memory pauses are released. */
  heldElsewhereMs?: number;
  /** Interval of the repeated halving at EMERGENCY. */
  shrinkEveryMs?: number;
}

export class MemoryPolicy {
  private emptySince: number | undefined;
  private lastShrink = Number.NEGATIVE_INFINITY;
  private level: MemoryLevel = MemoryLevel.NORMAL;
  private readonly now: () => number;

  constructor(private readonly options: MemoryPolicyOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  /** The monitor's level changed. */
  onLevel(level: MemoryLevel): void {
    this.level = level;
    const { pauses, logger } = this.options;
    pauses.clear(PauseReason.MEMORY);
    const pipelines = [...this.options.pipelines()];
    if (level === MemoryLevel.NORMAL) {
      for (const p of pipelines) p.restoreBatchSize();
      return;
    }
    // Logged here, at the transition: a partition already paused (e.g. buffer-full) only gains a
    // reason, and no 'paused partitions' line says so.
    if (level === MemoryLevel.WARNING) {
      const heaviest = heaviestPartitions(pipelines);
      for (const [topic, partitions] of heaviest) pauses.add(topic, PauseReason.MEMORY, partitions);
      logger.info(
        { memoryLevel: LEVEL_NAMES[level], partitions: Object.fromEntries(heaviest) },
        'paused for memory',
      );
      return;
    }
    for (const p of pipelines) {
      pauses.add(p.topic, PauseReason.MEMORY);
      p.flush();
    }
    logger.info(
      { memoryLevel: LEVEL_NAMES[level], topics: pipelines.map((p) => p.topic) },
      'paused for memory',
    );
    if (level === MemoryLevel.EMERGENCY) this.shrink(pipelines);
  }

  /** A memory sample was taken (every `memory.sampleIntervalMs`). */
  onSample(sample: Pick<MemorySample, 'usedBytes' | 'pipelineBytes'>): void {
    const { level } = this;
    if (
      level === MemoryLevel.EMERGENCY &&
      this.now() - this.lastShrink > (this.options.shrinkEveryMs ?? 1_000)
    )
      this.shrink([...this.options.pipelines()]);
    if (level === MemoryLevel.NORMAL || sample.pipelineBytes > 0) {
      this.emptySince = undefined;
      return;
    }
    this.emptySince ??= this.now();
    const { pauses } = this.options;
    if (
      this.now() - this.emptySince > (this.options.heldElsewhereMs ?? 5_000) &&
      pauses.paused().length > 0
    ) {
      this.options.logger.warn(
        { usedMiB: Math.round(sample.usedBytes / 2 ** 20) },
        'memory stays high with nothing buffered: resuming partitions paused for memory',
      );
      pauses.clear(PauseReason.MEMORY);
      this.emptySince = undefined;
    }
  }

  private shrink(pipelines: PolicyPipeline[]): void {
    this.lastShrink = this.now();
    for (const p of pipelines) p.halveBatchSize();
  }
}

/** Per topic, the partitions holding the most bytes: together at least half of all held. */
export function heaviestPartitions(pipelines: Iterable<PolicyPipeline>): Map<string, number[]> {
  const all: { topic: string; partition: number; bytes: number }[] = [];
  for (const p of pipelines)
    for (const [partition, bytes] of p.bytesByPartition) all.push({ topic: p.topic, partition, bytes });
  all.sort((a, b) => b.bytes - a.bytes);
  const total = all.reduce((n, x) => n + x.bytes, 0);
  const out = new Map<string, number[]>();
  let taken = 0;
  for (const x of all) {
    if (taken >= total / 2) break;
    out.set(x.topic, [...(out.get(x.topic) ?? []), x.partition]);
    taken += x.bytes;
  }
  return out;
}
