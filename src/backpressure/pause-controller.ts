/**
 * Records why each topic is paused. A topic is paused when its first reason appears and resumed
 * when its last reason clears, so independent causes (a full buffer, a failing sink) never resume
 * each other's pauses. The actual pause/resume is delegated to the consumer adapter.
 */

export const PauseReason = {
  /** Bytes held by the pipeline reached its budget. */
  BUFFER_FULL: 'buffer-full',
  /** A sink is failing and being retried. */
  SINK_FAILURE: 'sink-failure',
} as const;
export type PauseReason = (typeof PauseReason)[keyof typeof PauseReason];

export interface PauseTarget {
  pause(topic: string): void;
  resume(topic: string): void;
}

export class PauseController {
  private readonly reasons = new Map<string, Set<PauseReason>>();

  constructor(private readonly target: PauseTarget) {}

  add(topic: string, reason: PauseReason): void {
    let set = this.reasons.get(topic);
    if (!set) {
      set = new Set();
      this.reasons.set(topic, set);
    }
    if (set.has(reason)) return;
    set.add(reason);
    if (set.size === 1) this.target.pause(topic);
  }

  remove(topic: string, reason: PauseReason): void {
    const set = this.reasons.get(topic);
    if (!set?.delete(reason)) return;
    if (set.size === 0) this.target.resume(topic);
  }

  reasonsOf(topic: string): PauseReason[] {
    return [...(this.reasons.get(topic) ?? [])];
  }

  isPaused(topic: string): boolean {
    return (this.reasons.get(topic)?.size ?? 0) > 0;
  }
}
