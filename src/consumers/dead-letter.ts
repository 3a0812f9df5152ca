/**
 * Dead letters: a message that cannot be decoded goes to the dead-letter topic with its original
 * key, value and headers, plus `dlq-*` headers that say where it came from and why it failed.
 */
import type { IHeaders, Producer } from 'kafkajs';
import type { DeadLetterCode } from '../contract/errors.ts';

export interface DeadLetter {
  topic: string;
  partition: number;
  offset: number;
  /** The original message timestamp (ms since epoch, as a string). */
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
  code: DeadLetterCode;
  reason: string;
}

/** Where dead letters go; the micro-batcher waits for `publish` before committing past them. */
export interface DeadLetterPublisher {
  publish(letters: readonly DeadLetter[]): Promise<void>;
}

const MAX_REASON_LENGTH = 1000;

export function deadLetterHeaders(letter: DeadLetter, groupId: string, failedAt: Date): IHeaders {
  return {
    ...letter.headers,
    'dlq-topic': letter.topic,
    'dlq-partition': String(letter.partition),
    'dlq-offset': String(letter.offset),
    'dlq-timestamp': letter.timestamp,
    'dlq-error-code': letter.code,
    'dlq-error-message': letter.reason.slice(0, MAX_REASON_LENGTH),
    'dlq-consumer-group': groupId,
    'dlq-failed-at': failedAt.toISOString(),
  };
}

export class KafkaDeadLetterPublisher implements DeadLetterPublisher {
  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly groupId: string,
  ) {}

  async publish(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const failedAt = new Date();
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: letters.map((letter) => ({
        key: letter.key,
        value: letter.value,
        headers: deadLetterHeaders(letter, this.groupId, failedAt),
      })),
    });
  }
}
