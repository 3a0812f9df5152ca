/** Why a partition is paused (the pause controller keeps a set of these per partition). */
export const PauseReason = {
  /** Process memory reached a level that pauses this partition. */
  MEMORY: 'memory',
  /** Bytes held by the pipeline reached its budget. */
  BUFFER_FULL: 'buffer-full',
  /** A sink is failing and being retried. */
  SINK_FAILURE: 'sink-failure',
  /** A dead letter of this partition cannot be published: it stays paused (README, Guarantees). */
  DEAD_LETTER_UNDELIVERABLE: 'dead-letter-undeliverable',
} as const;
export type PauseReason = (typeof PauseReason)[keyof typeof PauseReason];
