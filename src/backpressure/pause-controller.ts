/**
 * Records why each partition is paused. A partition is paused when its first reason appears and
 * resumed when its last reason clears, so independent causes (memory, a full buffer, a failing
 * sink) never resume each other's pauses. A reason can be set for one partition or for a whole
 * topic (every partition of it this member owns, now or after a rebalance). The actual pause and
 * resume calls are delegated to the consumer adapter.
 */

import type { PauseReason } from '../core/pause-reason.ts';

export interface PauseTarget {
  pause(topic: string, partitions: number[]): void;
  resume(topic: string, partitions: number[]): void;
}

const ALL = -1;

export class PauseController {
  /** topic → partition (ALL for topic-wide) → reasons. */
  private readonly reasons = new Map<string, Map<number, Set<PauseReason>>>();
  private readonly assigned = new Map<string, number[]>();

  constructor(private readonly target: PauseTarget) {}

  /** The partitions of `topic` this member owns (after each group join). Re-applies pauses. */
  setAssignment(topic: string, partitions: number[]): void {
    this.assigned.set(topic, [...partitions]);
    const byPartition = this.reasons.get(topic);
    if (byPartition) {
      for (const p of [...byPartition.keys()])
        if (p !== ALL && !partitions.includes(p)) byPartition.delete(p);
    }
    const paused = partitions.filter((p) => this.isPaused(topic, p));
    if (paused.length > 0) this.target.pause(topic, paused);
  }

  /** Adds `reason` to the given partitions, or to the whole topic when `partitions` is undefined. */
  add(topic: string, reason: PauseReason, partitions?: number[]): void {
    this.change(topic, partitions, (set) => {
      if (set.has(reason)) return false;
      set.add(reason);
      return true;
    });
  }

  remove(topic: string, reason: PauseReason, partitions?: number[]): void {
    this.change(topic, partitions, (set) => set.delete(reason));
  }

  /** Removes `reason` wherever it is set (topic-wide and per partition). */
  clear(reason: PauseReason): void {
    for (const [topic, byPartition] of this.reasons) {
      const topicWide = byPartition.get(ALL)?.has(reason) ?? false;
      if (topicWide) this.remove(topic, reason);
      const partitions = [...byPartition].filter(([p, set]) => p !== ALL && set.has(reason)).map(([p]) => p);
      if (partitions.length > 0) this.remove(topic, reason, partitions);
    }
  }

  /** The reasons partition `partition` of `topic` is paused for (its own and the topic's). */
  reasonsOf(topic: string, partition: number): PauseReason[] {
    const byPartition = this.reasons.get(topic);
    return [...new Set([...(byPartition?.get(ALL) ?? []), ...(byPartition?.get(partition) ?? [])])];
  }

  isPaused(topic: string, partition: number): boolean {
    return this.reasonsOf(topic, partition).length > 0;
  }

  /** Every owned partition that is paused, with its reasons. */
  paused(): { topic: string; partition: number; reasons: PauseReason[] }[] {
    const out: { topic: string; partition: number; reasons: PauseReason[] }[] = [];
    for (const [topic, partitions] of this.assigned)
      for (const partition of partitions) {
        const reasons = this.reasonsOf(topic, partition);
        if (reasons.length > 0) out.push({ topic, partition, reasons });
      }
    return out;
  }

  private change(
    topic: string,
    partitions: number[] | undefined,
    mutate: (set: Set<PauseReason>) => boolean,
  ): void {
    const affected = partitions ?? this.assigned.get(topic) ?? [];
    const before = new Map(affected.map((p) => [p, this.isPaused(topic, p)]));
    let byPartition = this.reasons.get(topic);
    if (!byPartition) {
      byPartition = new Map();
      this.reasons.set(topic, byPartition);
    }
    const keys = partitions ?? [ALL];
    let changed = false;
    for (const key of keys) {
      let set = byPartition.get(key);
      if (!set) {
        set = new Set();
        byPartition.set(key, set);
      }
      changed = mutate(set) || changed;
    }
    if (!changed) return;
    const toPause = affected.filter((p) => !before.get(p) && this.isPaused(topic, p));
    const toResume = affected.filter((p) => before.get(p) && !this.isPaused(topic, p));
    if (toPause.length > 0) this.target.pause(topic, toPause);
    if (toResume.length > 0) this.target.resume(topic, toResume);
  }
}
