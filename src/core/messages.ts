/**
 * The message records every layer shares, with no Kafka client's types: a held message (what a
 * pipeline keeps of a fetched message until its batch is written) and a dead letter.
 */
import type { DeadLetterCode } from '../contract/errors.ts';

/** Header values as Kafka clients give them (kafkajs's IHeaders has this shape). */
export type MessageHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

export interface DeadLetter {
  topic: string;
  partition: number;
  offset: number;
  /** The original message timestamp (ms since epoch, as a string). */
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: MessageHeaders;
  code: DeadLetterCode;
  reason: string;
}

/** Where dead letters go; the micro-batcher waits for `publish` before committing past them. */
export interface DeadLetterPublisher {
  publish(letters: readonly DeadLetter[]): Promise<void>;
}

/**
 * A message a batch holds until it is written: its original bytes, to re-decode it when a sink
 * rejects the batch and to dead-letter it with those bytes. Accounted in the batch's bytes.
 */
export type HeldMessage = Omit<DeadLetter, 'code' | 'reason' | 'topic'>;
