/**
 * The `ceiling-kafkajs` reference: a bare kafkajs consumer with varstream's client and fetch
 * settings, no decode and no sink. It resolves every message and lets kafkajs commit after each
 * batch, so the bench times it the same way as `varstream consume`: from the group join to the
 * commit of the last offset. Configured by the same environment (VARSTREAM_*, KAFKA_BROKERS).
 */
import { loadConfig } from '../config/index.ts';
import { consumerConfig, createKafka } from '../consumers/kafka-client.ts';
import { createLogger } from '../core/logger.ts';

const config = loadConfig();
const logger = createLogger('info');
const kafka = createKafka(config, logger);
const consumer = kafka.consumer(consumerConfig(config));
let messages = 0;
let bytes = 0;
consumer.on(consumer.events.GROUP_JOIN, () => logger.info('joined consumer group'));
await consumer.connect();
await consumer.subscribe({ topics: [config.topics.variants], fromBeginning: true });
await consumer.run({
  autoCommit: true,
  eachBatch: async ({ batch }) => {
    for (const m of batch.messages) bytes += (m.value?.length ?? 0) + (m.key?.length ?? 0);
    messages += batch.messages.length;
  },
});
const stop = async () => {
  await consumer.disconnect();
  logger.info({ messages, bytes }, 'stopped');
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
