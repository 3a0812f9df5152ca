/**
 * Proves: while a sink fails, it is retried, the topic is paused for the sink failure, and no
 * offset past the failing batch is committed; when the sink recovers everything lands once. A sink
 * stuck past the grace period cannot hold up a stop, and what it held is not committed.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { VariantBatch } from '../../src/batching/variant-batch.ts';
import { createKafka } from '../../src/consumers/kafka-client.ts';
import { ensureTopics } from '../../src/consumers/topics.ts';
import { deliver, type Sink, type SinkBatch } from '../../src/core/sink.ts';
import { variantSinks } from '../../src/pipelines/variants.ts';
import {
  committedOffsets,
  countStores,
  ensureBroker,
  silentLogger,
  testConfig,
  testConsumer,
  testKafka,
  waitUntilCaughtUp,
} from '../helpers/kafka.ts';
import { waitFor } from '../helpers/wait.ts';

before(() => {
  ensureBroker();
});

/** Wraps a real sink; refuses any batch reaching offset `failFrom` while `failing` is set. */
class SwitchableSink implements Sink<VariantBatch> {
  failing = true;
  refusals = 0;
  constructor(
    private readonly inner: Sink<VariantBatch>,
    private readonly failFrom: number,
  ) {}
  get name() {
    return this.inner.name;
  }
  start() {
    return this.inner.start();
  }
  close() {
    return this.inner.close();
  }
  async writeBatch(batch: SinkBatch<VariantBatch>) {
    if (this.failing && batch.ranges.some((r) => r.last >= this.failFrom)) {
      this.refusals++;
      return deliver.retry('injected: store unavailable');
    }
    return this.inner.writeBatch(batch);
  }
}

test('no offset past a failing batch is committed; after recovery everything lands', async () => {
  const config = testConfig({ kafka: { topicPartitions: 1 }, batch: { maxRows: 50, maxInFlight: 1 } });
  const kafka = createKafka(config, silentLogger);
  await ensureTopics(kafka, config);
  const producer = kafka.producer();
  await producer.connect();
  const messages = Array.from({ length: 200 }, (_, i) => ({
    key: `1-${i + 1}-A`,
    value: JSON.stringify({ chrom: '1', pos: i + 1, ref: 'A', alt: 'G', samples: { S: { GT: '1/1' } } }),
  }));
  await producer.send({ topic: config.topics.variants, messages });
  await producer.disconnect();

  const [lance, kuzu] = variantSinks(config, silentLogger) as [Sink<VariantBatch>, Sink<VariantBatch>];
  const failingKuzu = new SwitchableSink(kuzu, 100);
  const consumer = testConsumer(config, [lance, failingKuzu]);
  const pauses: string[][] = [];
  consumer.on('pause', (e: { reasons: string[] }) => pauses.push(e.reasons));
  await consumer.start();

  await waitFor(() => failingKuzu.refusals >= 5, { timeoutMs: 60_000, message: 'the sink to be retried' });
  assert.ok(
    pauses.some((r) => r.includes('sink-failure')),
    'paused for the sink failure',
  );
  const whileFailing = await committedOffsets(testKafka(), config.kafka.groupId, config.topics.variants);
  assert.ok(
    (whileFailing.get(0) ?? -1) <= 100,
    `committed ${whileFailing.get(0)} while offsets >= 100 are unwritten`,
  );

  failingKuzu.failing = false;
  await waitUntilCaughtUp(testKafka(), config);
  await consumer.stop();
  const counts = await countStores(config);
  assert.equal(counts.rows, 200);
  assert.equal(counts.variants, 200);
  assert.equal(counts.carriedBy, 200);
});

test('a sink stuck past the grace period: stop returns unclean in time and commits nothing', async () => {
  const config = testConfig({ kafka: { topicPartitions: 1 }, shutdownGraceMs: 3_000 });
  const kafka = createKafka(config, silentLogger);
  await ensureTopics(kafka, config);
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: config.topics.variants,
    messages: [{ key: '1-1-A', value: JSON.stringify({ chrom: '1', pos: 1, ref: 'A', alt: 'G' }) }],
  });
  await producer.disconnect();
  let calls = 0;
  const stuck: Sink<VariantBatch> = {
    name: 'stuck',
    start: async () => undefined,
    close: async () => undefined,
    writeBatch: () => {
      calls++;
      return new Promise(() => undefined);
    },
  };
  const consumer = testConsumer(config, [stuck]);
  await consumer.start();
  await waitFor(() => calls > 0, { timeoutMs: 60_000, message: 'the batch to reach the stuck sink' });
  const started = Date.now();
  assert.equal(await consumer.stop(), false, 'an unclean stop');
  assert.ok(
    Date.now() - started < config.shutdownGraceMs,
    `stopped within the grace period (${Date.now() - started} ms)`,
  );
  const committed = await committedOffsets(testKafka(), config.kafka.groupId, config.topics.variants);
  assert.ok((committed.get(0) ?? -1) <= 0, 'nothing committed past the stuck batch');
});
