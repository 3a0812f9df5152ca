/**
 * The port for publishing messages to a topic (what `varstream produce` and the demo need of a
 * Kafka client): kafkajs is one adapter (src/consumers/publisher.ts, `kafkaPublishers`).
 */
import type { MessageHeaders } from './messages.ts';

export interface OutgoingMessage {
  key: string | Buffer | null;
  value: string | Buffer;
  headers?: MessageHeaders;
}

export interface PublisherOptions {
  /** Messages per produce request. */
  chunkMessages?: number;
  /** Bytes per produce request. */
  chunkBytes?: number;
}

export interface MessagePublisher {
  connect(): Promise<void>;
  /** Queues a message; sends when a chunk is full, awaiting the broker's acknowledgement. */
  publish(message: OutgoingMessage): Promise<void>;
  flush(): Promise<void>;
  /** Flushes and disconnects. */
  close(): Promise<void>;
  /** Messages and bytes acknowledged so far. */
  readonly published: number;
  readonly bytes: number;
}

export interface PublisherPort {
  publisher(topic: string, options?: PublisherOptions): MessagePublisher;
}
