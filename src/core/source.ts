/**
 * The port between the pipelines and a Kafka client: what the runner (PipelineConsumer) needs of
 * a consumer-group member, in the client's neutral terms. kafkajs is one adapter
 * (src/consumers/kafkajs-source.ts); a fake one drives the runner's unit tests without a broker.
 *
 * Semantics an adapter must keep:
 * - `assigned` is called after every (re)join, before the first batch of the new generation, with
 *   every partition this member owns; the runner re-reads them from the committed offsets.
 * - A batch's messages are the client's own copies (the runner holds them until written), with
 *   numeric offsets, in offset order, of one topic-partition.
 * - `live()` turns false once the batch belongs to an old generation or the source is stopping;
 *   the runner then stops taking its messages. `resolve(offset)` says the runner took it.
 * - Pauses are per partition, or for a whole topic (`partitions` undefined), and hold across
 *   rebalances until resumed; commits carry explicit offsets (the next offset to read).
 * - `fatal` is called once when the client gives up and will fetch nothing more.
 */
import type { HeldMessage } from './messages.ts';

export interface FetchedBatch {
  readonly topic: string;
  readonly partition: number;
  readonly messages: readonly HeldMessage[];
  resolve(offset: number): void;
  /** Keeps the group session alive; cheap to call often (the adapter throttles). */
  heartbeat(): Promise<void>;
  live(): boolean;
}

export interface SourceHandlers {
  batch(batch: FetchedBatch): Promise<void>;
  assigned(assignment: Record<string, number[]>): void;
  fatal(error: unknown): void;
  /** A fetch started: the consume loop is alive even when nothing arrives. */
  fetching?(): void;
  connected?(up: boolean): void;
  rebalancing?(): void;
}

export interface OffsetCommit {
  topic: string;
  partition: number;
  /** The next offset to read, as Kafka's commit API takes it. */
  offset: string;
}

export interface Source {
  /** Connects, joins the group on `topics` (from the beginning when nothing is committed) and runs. */
  run(topics: readonly string[], handlers: SourceHandlers): Promise<void>;
  pause(topic: string, partitions?: readonly number[]): void;
  resume(topic: string, partitions: readonly number[]): void;
  commitOffsets(offsets: OffsetCommit[]): Promise<void>;
  /** Leaves the group and disconnects. */
  disconnect(): Promise<void>;
}
