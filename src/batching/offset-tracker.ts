/**
 * Tracks, per partition, which fetched offsets are done (written to every sink or dead-lettered)
 * and yields the offset that may be committed: one past the highest *contiguous* done offset.
 *
 * Offsets are tracked as ranges in fetch order, one per partition per batch, so gaps in the
 * offset sequence (compaction, transaction markers) need no special case. A range belongs to a
 * generation: after a rebalance the partition's ranges are dropped and completions of the old
 * generation are ignored, because the new assignment re-reads from the committed offset.
 */

export interface OffsetRange {
  readonly partition: number;
  readonly first: number;
  readonly last: number;
  readonly generation: number;
}

interface PartitionState {
  generation: number;
  /** Ranges in fetch order, oldest first; `done` set when the batch holding it is delivered. */
  ranges: Array<{ range: OffsetRange; done: boolean }>;
  /** Highest offset handed to `open` in this generation, to keep ranges in order. */
  lastOpened: number;
}

export class OffsetTracker {
  private readonly partitions = new Map<number, PartitionState>();

  /** Registers offsets first..last of a partition as in flight. Ranges must arrive in order. */
  open(partition: number, first: number, last: number): OffsetRange {
    const state = this.state(partition);
    if (first > last || first <= state.lastOpened) {
      throw new Error(
        `offset range ${first}..${last} of partition ${partition} is out of order (after ${state.lastOpened})`,
      );
    }
    const range: OffsetRange = { partition, first, last, generation: state.generation };
    state.ranges.push({ range, done: false });
    state.lastOpened = last;
    return range;
  }

  /**
   * Marks a range done. Returns the offset to commit (last contiguous done offset + 1) when the
   * partition's watermark moved, otherwise undefined (an older range is still pending, or the
   * range belongs to a generation that has been reset).
   */
  complete(range: OffsetRange): number | undefined {
    const state = this.partitions.get(range.partition);
    if (!state || state.generation !== range.generation) return undefined;
    const entry = state.ranges.find((e) => e.range === range);
    if (!entry) return undefined;
    entry.done = true;
    let commit: number | undefined;
    while (state.ranges.length > 0 && state.ranges[0]?.done) {
      commit = (state.ranges.shift() as { range: OffsetRange }).range.last + 1;
    }
    return commit;
  }

  /** Forgets a partition's ranges (rebalance): completions of older ranges are then ignored. */
  reset(partition: number): void {
    const state = this.state(partition);
    state.generation++;
    state.ranges = [];
    state.lastOpened = -1;
  }

  resetAll(): void {
    for (const partition of this.partitions.keys()) this.reset(partition);
  }

  /** Ranges still waiting for delivery, over all partitions. */
  pendingRanges(): number {
    let n = 0;
    for (const state of this.partitions.values()) n += state.ranges.length;
    return n;
  }

  private state(partition: number): PartitionState {
    let state = this.partitions.get(partition);
    if (!state) {
      state = { generation: 0, ranges: [], lastOpened: -1 };
      this.partitions.set(partition, state);
    }
    return state;
  }
}
