/**
 * Proves: decoding a fetched batch that takes longer than the group session timeout does not cost
 * the member its session. Each message here takes 700 ms to decode (a stand-in for a costly
 * message, held under the per-message limits in production); twelve of them, fetched as one batch,
 * take 8.4 s against a 6 s session. Before, `eachBatch` heartbeated only after the whole batch: the
 * broker evicted the member mid-batch, the batch was re-read from the committed offset after the
 * rejoin, and the same happened again, so nothing was ever committed.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { createKafka } from '../../src/consumers/kafka-client.ts';
import { ensureTopics } from '../../src/consumers/topics.ts';
import { variantPipeline, variantSinks } from '../../src/pipelines/variants.ts';
import {
  countLance,
  ensureBroker,
  pipelinesConsumer,
  silentLogger,
  testConfig,
  testKafka,
  waitUntilCaughtUp,
} from '../helpers/kafka.ts';

const MESSAGES = 12;
const DECODE_MS = 700;

before(() => {
  ensureBroker();
});

test('a batch that takes longer than the session timeout to decode keeps the member in its group', async () => {
  const config = testConfig({
    kafka: { topicPartitions: 1, sessionTimeoutMs: 6_000 },
    pipelines: ['variants'],
    variants: { sinks: 'lancedb' },
  });
  const kafka = createKafka(config, silentLogger);
  await ensureTopics(kafka, config);
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: config.topics.variants,
    messages: Array.from({ length: MESSAGES }, (_, i) => ({
      key: `1-${i + 1}-A`,
      value: JSON.stringify({ chrom: '1', pos: i + 1, ref: 'A', alt: 'G' }),
    })),
  });
  await producer.disconnect();

  const spec = variantPipeline(config, variantSinks(config, silentLogger));
  const slow = {
    ...spec,
    decode: (message: Parameters<typeof spec.decode>[0]) => {
      const until = performance.now() + DECODE_MS;
      while (performance.now() < until) {
        // busy: a decode that holds the event loop, as a costly message does
      }
      return spec.decode(message);
    },
  };
  const consumer = pipelinesConsumer(config, [slow]);
  let joins = 0;
  consumer.on('joined', () => joins++);
  await consumer.start();
  try {
    await waitUntilCaughtUp(testKafka(), config, 90_000);
  } finally {
    await consumer.stop();
  }
  assert.equal(joins, 1, 'one join: the session never expired');
  assert.deepEqual(await countLance(config), { rows: MESSAGES, distinctIds: MESSAGES });
});
