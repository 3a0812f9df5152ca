/**
 * Samples memory on a timer and turns it into one signal, a level with hysteresis (in the spirit
 * of the OpenTelemetry Collector's memory limiter): NORMAL, WARNING, CRITICAL, EMERGENCY. A level
 * rises as soon as usage crosses its threshold and falls only once usage is clearly below it, so
 * it does not flap. Only transitions are emitted and logged.
 *
 * Usage is the larger of the process RSS and the cgroup's working set (when a cgroup limit set
 * the budget). Bytes the pipelines hold (fetched, batched, being written) are counted exactly by
 * the micro-batchers and reported beside it.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../core/logger.ts';
import { type MemoryBudget, readCgroupWorkingSet } from './memory-budget.ts';

export const MemoryLevel = { NORMAL: 0, WARNING: 1, CRITICAL: 2, EMERGENCY: 3 } as const;
export type MemoryLevel = (typeof MemoryLevel)[keyof typeof MemoryLevel];
export const LEVEL_NAMES = ['NORMAL', 'WARNING', 'CRITICAL', 'EMERGENCY'] as const;

export interface MemorySample {
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
  cgroupWorkingSetBytes: number | undefined;
  /** Bytes held by the pipelines (exact accounting). */
  pipelineBytes: number;
  /** The figure levels are computed from. */
  usedBytes: number;
}

/**
 * The next level for `used` bytes. Up: to the highest threshold reached. Down: one threshold at a
 * time, and only below the lower one's band (resume level for NORMAL; otherwise 5% of the limit
 * under the threshold being left).
 */
export function nextLevel(current: MemoryLevel, used: number, budget: MemoryBudget): MemoryLevel {
  const thresholds = [0, budget.warningBytes, budget.criticalBytes, budget.emergencyBytes];
  let reached: MemoryLevel = MemoryLevel.NORMAL;
  for (let level = 3; level >= 1; level--) {
    if (used >= (thresholds[level] as number)) {
      reached = level as MemoryLevel;
      break;
    }
  }
  if (reached >= current) return reached;
  const band = budget.limitBytes * 0.05;
  let level = current;
  while (level > reached) {
    const floor = level === MemoryLevel.WARNING ? budget.resumeBytes : (thresholds[level] as number) - band;
    if (used >= floor) break;
    level = (level - 1) as MemoryLevel;
  }
  return level;
}

export interface MemoryMonitorOptions {
  budget: MemoryBudget;
  intervalMs: number;
  logger: Logger;
  /** Bytes the pipelines hold right now. */
  pipelineBytes(): number;
  /** Reads the process's memory (tests replace it). */
  read?(): Omit<MemorySample, 'pipelineBytes' | 'usedBytes'>;
}

/** Events: `level` (level, previous, sample) on every transition; `sample` (sample) every tick. */
export class MemoryMonitor extends EventEmitter {
  private current: MemoryLevel = MemoryLevel.NORMAL;
  private timer: NodeJS.Timeout | undefined;
  private readonly log: Logger;
  private readonly useCgroup: boolean;

  constructor(private readonly options: MemoryMonitorOptions) {
    super();
    this.log = options.logger.child({ component: 'memory' });
    this.useCgroup = options.budget.source.startsWith('cgroup');
  }

  get level(): MemoryLevel {
    return this.current;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes one sample and updates the level (the timer calls this; tests may too). */
  tick(): MemorySample {
    const reading = this.options.read?.() ?? this.readProcess();
    const usedBytes = Math.max(reading.rssBytes, reading.cgroupWorkingSetBytes ?? 0);
    const sample: MemorySample = { ...reading, pipelineBytes: this.options.pipelineBytes(), usedBytes };
    const previous = this.current;
    this.current = nextLevel(previous, usedBytes, this.options.budget);
    this.emit('sample', sample);
    if (this.current !== previous) {
      const fields = {
        level: LEVEL_NAMES[this.current],
        previous: LEVEL_NAMES[previous],
        usedMiB: Math.round(usedBytes / 2 ** 20),
        limitMiB: Math.round(this.options.budget.limitBytes / 2 ** 20),
        pipelineMiB: Math.round(sample.pipelineBytes / 2 ** 20),
      };
      if (this.current > previous) this.log.warn(fields, 'memory level rose');
      else this.log.info(fields, 'memory level fell');
      this.emit('level', this.current, previous, sample);
    }
    return sample;
  }

  private readProcess(): Omit<MemorySample, 'pipelineBytes' | 'usedBytes'> {
    const m = process.memoryUsage();
    return {
      rssBytes: m.rss,
      heapUsedBytes: m.heapUsed,
      externalBytes: m.external,
      arrayBuffersBytes: m.arrayBuffers,
      cgroupWorkingSetBytes: this.useCgroup ? readCgroupWorkingSet() : undefined,
    };
  }
}
