/**
 * Commits offsets to Kafka one request at a time, coalescing: while a commit is in flight, newer
 * offsets for the same partition replace older ones. A commit refused because the group moved on
 * (a rebalance) is expected and dropped: the new owner re-reads from the last committed offset.
 */
import type { Logger } from '../core/logger.ts';
import type { Source } from '../core/source.ts';

export interface CommittedOffset {
  topic: string;
  partition: number;
  offset: number;
}

/** Kafka errors that mean "this member's generation is over", not "try again". */
const GENERATION_ERRORS = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']);
const RETRY_DELAY_MS = 1_000;

export class CommitQueue {
  private readonly pending = new Map<string, CommittedOffset>();
  private running: Promise<void> | undefined;

  constructor(
    private readonly consumer: Pick<Source, 'commitOffsets'>,
    private readonly log: Logger,
    private readonly onCommitted: (offset: CommittedOffset) => void,
  ) {}

  commit(topic: string, partition: number, offset: number): void {
    this.pending.set(`${topic}:${partition}`, { topic, partition, offset });
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
  }

  /** Forgets queued commits (after a rebalance they may belong to partitions no longer owned). */
  clear(): void {
    this.pending.clear();
  }

  /** Resolves when nothing is queued or in flight. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async run(): Promise<void> {
    while (this.pending.size > 0) {
      const offsets = [...this.pending.values()];
      this.pending.clear();
      try {
        await this.consumer.commitOffsets(offsets.map((o) => ({ ...o, offset: String(o.offset) })));
        for (const o of offsets) this.onCommitted(o);
      } catch (error) {
        const type = (error as { type?: string }).type ?? '';
        if (GENERATION_ERRORS.has(type)) {
          this.log.info({ type }, 'commit refused after a rebalance; the partitions will be re-read');
          continue;
        }
        this.log.warn({ err: error }, 'commit failed; retrying');
        for (const o of offsets)
          if (!this.pending.has(`${o.topic}:${o.partition}`))
            this.pending.set(`${o.topic}:${o.partition}`, o);
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
      }
    }
  }
}
