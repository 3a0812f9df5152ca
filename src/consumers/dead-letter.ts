/**
 * Dead letters: a message that cannot be decoded goes to the dead-letter topic with its original
 * key, value and headers, plus `dlq-*` headers that say where it came from and why it failed.
 */
import type { IHeaders, Producer } from 'kafkajs';
import type { DeadLetter, DeadLetterPublisher } from '../core/messages.ts';

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

/**
 * A dead letter the broker refused even without its value: the partition it came from stops
 * (nothing past it can be committed) with this error, rather than a restart that re-reads it.
 */
export class DeadLetterUndeliverableError extends Error {
  readonly retriable = false;
  constructor(
    readonly letter: Pick<DeadLetter, 'topic' | 'partition' | 'offset' | 'code'>,
    readonly deadLetterTopic: string,
    options: { cause: unknown },
  ) {
    const why = (options.cause as Error)?.message ?? String(options.cause);
    super(
      `dead letter of ${letter.topic}/${letter.partition}@${letter.offset} (${letter.code}) refused by topic ${deadLetterTopic} even without its value: ${why}`,
      options,
    );
    this.name = 'DeadLetterUndeliverableError';
  }
}

/** Kafka's answers to a message or request too large for the topic: retrying as is cannot help. */
const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD']);

function isTooLarge(error: unknown): boolean {
  const type = (error as { type?: string }).type;
  return type !== undefined && TOO_LARGE.has(type);
}

function headerBytes(headers: IHeaders): number {
  let n = 0;
  for (const [k, v] of Object.entries(headers)) {
    n += Buffer.byteLength(k) + 8;
    for (const x of Array.isArray(v) ? v : [v])
      n += x === undefined ? 0 : Buffer.byteLength(x as string | Buffer);
  }
  return n;
}

interface OutgoingLetter {
  letter: DeadLetter;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
  bytes: number;
}

/**
 * Publishes dead letters, never stricter than the accept path: a letter larger than `maxBytes`
 * (the dead-letter topic's size as varstream creates it, topics.ts) goes without its value, its
 * headers saying so (`dlq-value-omitted`, `dlq-value-bytes`); sends are cut to at most `maxBytes`
 * each; and a letter the broker still refuses as too large (a topic made smaller by hand) is sent
 * again alone, then without its value (and, if need be, its original headers). Only a letter
 * refused even then is an error (DeadLetterUndeliverableError).
 */
export class KafkaDeadLetterPublisher implements DeadLetterPublisher {
  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly groupId: string,
    private readonly maxBytes = 11 * 1024 * 1024,
  ) {}

  async publish(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const failedAt = new Date();
    const outgoing = letters.map((letter) => this.outgoing(letter, failedAt));
    let chunk: OutgoingLetter[] = [];
    let bytes = 0;
    for (const item of outgoing) {
      if (chunk.length > 0 && bytes + item.bytes > this.maxBytes) {
        await this.sendChunk(chunk, failedAt);
        chunk = [];
        bytes = 0;
      }
      chunk.push(item);
      bytes += item.bytes;
    }
    await this.sendChunk(chunk, failedAt);
  }

  private outgoing(letter: DeadLetter, failedAt: Date): OutgoingLetter {
    const headers = deadLetterHeaders(letter, this.groupId, failedAt);
    const keyBytes = letter.key?.length ?? 0;
    const bytes = keyBytes + (letter.value?.length ?? 0) + headerBytes(headers);
    if (bytes <= this.maxBytes) return { letter, key: letter.key, value: letter.value, headers, bytes };
    return this.withoutValue(
      letter,
      headers,
      `the dead letter would be ${bytes} bytes, more than ${this.maxBytes}`,
    );
  }

  /** The letter with no value (and, if the headers alone are too large, only the dlq-* headers). */
  private withoutValue(letter: DeadLetter, headers: IHeaders, why: string): OutgoingLetter {
    const valueBytes = String(letter.value?.length ?? 0);
    let kept: IHeaders = { ...headers, 'dlq-value-omitted': why, 'dlq-value-bytes': valueBytes };
    if ((letter.key?.length ?? 0) + headerBytes(kept) > this.maxBytes) {
      kept = Object.fromEntries(Object.entries(kept).filter(([k]) => k.startsWith('dlq-')));
      kept['dlq-value-omitted'] = `${why}; original key and headers omitted too`;
    }
    const key = (letter.key?.length ?? 0) + headerBytes(kept) > this.maxBytes ? null : letter.key;
    return { letter, key, value: null, headers: kept, bytes: (key?.length ?? 0) + headerBytes(kept) };
  }

  private send(items: OutgoingLetter[]): Promise<unknown> {
    return this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: items.map(({ key, value, headers }) => ({ key, value, headers })),
    });
  }

  private async sendChunk(items: OutgoingLetter[], failedAt: Date): Promise<void> {
    if (items.length === 0) return;
    try {
      await this.send(items);
      return;
    } catch (error) {
      if (!isTooLarge(error)) throw error;
    }
    // The topic takes less than this process assumed: one at a time, then without values.
    for (const item of items) {
      try {
        await this.send([item]);
        continue;
      } catch (error) {
        if (!isTooLarge(error)) throw error;
      }
      const bare = this.withoutValue(
        item.letter,
        deadLetterHeaders(item.letter, this.groupId, failedAt),
        `topic ${this.topic} refused the dead letter with its value as too large`,
      );
      try {
        await this.send([bare]);
      } catch (error) {
        if (!isTooLarge(error)) throw error;
        throw new DeadLetterUndeliverableError(item.letter, this.topic, { cause: error });
      }
    }
  }
}
