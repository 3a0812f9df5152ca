/**
 * Publishes messages to a topic in size-bounded chunks with an idempotent producer (acks=all, one
 * request in flight, so per-partition order is kept across retries). Used by `varstream produce`.
 */
import { type Kafka, Partitioners, type Producer } from 'kafkajs';
import type {
  MessagePublisher,
  OutgoingMessage,
  PublisherOptions,
  PublisherPort,
} from '../core/publisher.ts';

/** The publisher port on a kafkajs client. */
export function kafkaPublishers(kafka: Kafka): PublisherPort {
  return { publisher: (topic, options) => new TopicPublisher(kafka, topic, options) };
}

export class TopicPublisher implements MessagePublisher {
  private readonly producer: Producer;
  private chunk: OutgoingMessage[] = [];
  private chunkBytes = 0;
  published = 0;
  bytes = 0;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    private readonly options: PublisherOptions = {},
  ) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // murmur2 on the key, as the Java client does: one site key, one partition.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  /** Queues a message; sends the chunk when it is full (awaiting the broker's acknowledgement). */
  async publish(message: OutgoingMessage): Promise<void> {
    const size = (message.value?.length ?? 0) + (message.key?.length ?? 0);
    if (this.chunk.length > 0 && this.chunkBytes + size > (this.options.chunkBytes ?? 1024 * 1024))
      await this.flush();
    this.chunk.push(message);
    this.chunkBytes += size;
    if (this.chunk.length >= (this.options.chunkMessages ?? 1000)) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.chunk.length === 0) return;
    const messages = this.chunk;
    const bytes = this.chunkBytes;
    this.chunk = [];
    this.chunkBytes = 0;
    await this.producer.send({ topic: this.topic, acks: -1, messages });
    this.published += messages.length;
    this.bytes += bytes;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.producer.disconnect();
  }
}
