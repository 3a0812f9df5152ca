/**
 * The Source port (src/core/source.ts) on kafkajs: its consumer group, `eachBatch` with
 * `resolveOffset` / `isStale` / `heartbeat`, GROUP_JOIN payloads, CRASH events (`restart: false`
 * is fatal) and topic-level pause. Messages are handed out as the pipeline's own copies
 * (held-message.ts: kafkajs's buffers are views of the whole fetch response).
 */
import type { Consumer, Kafka } from 'kafkajs';
import type { Config } from '../config/schema.ts';
import type { OffsetCommit, Source, SourceHandlers } from '../core/source.ts';
import { holdMessage } from './held-message.ts';
import { consumerConfig } from './kafka-client.ts';

export class KafkajsSource implements Source {
  /** The kafkajs consumer (telemetry wraps its commits; tests and benches may inspect it). */
  readonly consumer: Consumer;
  private stopping = false;

  constructor(kafka: Kafka, config: Config) {
    this.consumer = kafka.consumer(consumerConfig(config));
  }

  async run(topics: readonly string[], handlers: SourceHandlers): Promise<void> {
    const { consumer } = this;
    const { events } = consumer;
    consumer.on(events.CONNECT, () => handlers.connected?.(true));
    consumer.on(events.DISCONNECT, () => handlers.connected?.(false));
    consumer.on(events.REBALANCING, () => handlers.rebalancing?.());
    consumer.on(events.FETCH_START, () => handlers.fetching?.());
    consumer.on(events.GROUP_JOIN, (event) => handlers.assigned(event.payload.memberAssignment));
    // kafkajs restarts its consumer after most errors; only when it gives up is it fatal.
    consumer.on(events.CRASH, ({ payload }) => {
      if (!payload.restart && !this.stopping) handlers.fatal(payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: ({ batch, resolveOffset, heartbeat, isRunning, isStale }) =>
        handlers.batch({
          topic: batch.topic,
          partition: batch.partition,
          messages: batch.messages.map((m) => holdMessage(batch.partition, m).held),
          resolve: (offset) => resolveOffset(String(offset)),
          heartbeat,
          live: () => !this.stopping && isRunning() && !isStale(),
        }),
    });
  }

  pause(topic: string, partitions?: readonly number[]): void {
    this.consumer.pause([partitions ? { topic, partitions: [...partitions] } : { topic }]);
  }

  resume(topic: string, partitions: readonly number[]): void {
    this.consumer.resume([{ topic, partitions: [...partitions] }]);
  }

  commitOffsets(offsets: OffsetCommit[]): Promise<void> {
    return this.consumer.commitOffsets(offsets);
  }

  async disconnect(): Promise<void> {
    this.stopping = true;
    await this.consumer.disconnect();
  }
}
