/**
 * Proves: every record of a real multi-sample VCF lands exactly once in LanceDB and Kuzu (one row
 * per ALT allele, every sample, every carried genotype edge, every gene edge), with the expected
 * numbers computed from the file independently; publishing the same file again, and restarting the
 * consumer mid-stream, leave every count unchanged.
 */

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Config } from '../../src/config/index.ts';
import { createKafka } from '../../src/consumers/kafka-client.ts';
import type { PipelineConsumer } from '../../src/consumers/pipeline-consumer.ts';
import { kafkaPublishers } from '../../src/consumers/publisher.ts';
import { ensureTopics } from '../../src/consumers/topics.ts';
import { produceVcf } from '../../src/producer/produce-vcf.ts';
import {
  committedOffsets,
  countStores,
  ensureBroker,
  fixtureVcf,
  silentLogger,
  testConfig,
  testConsumer,
  testKafka,
  waitUntilCaughtUp,
} from '../helpers/kafka.ts';
import { type Expected, expectedCounts, expectedFromVcf } from '../helpers/vcf-expectations.ts';
import { waitFor } from '../helpers/wait.ts';

async function consumeAll(config: Config): Promise<PipelineConsumer> {
  const consumer = testConsumer(config);
  await consumer.start();
  await waitUntilCaughtUp(testKafka(), config);
  assert.equal(await consumer.stop(), true, 'clean stop');
  return consumer;
}

before(() => {
  ensureBroker();
});

for (const file of ['hail_sample.vcf.gz', 'giab_ashk_trio.bcsq.vcf.gz']) {
  describe(`a real VCF (${file}) lands exactly once`, () => {
    let path: string;
    const config = testConfig({ batch: { maxRows: 2_000 } });
    const kafka = createKafka(config, silentLogger);
    let expected: Expected;

    before(async () => {
      path = fixtureVcf(file);
      expected = await expectedFromVcf(path);
      await ensureTopics(kafka, config);
    });

    test('every variant, sample, gene and edge lands once', async () => {
      const produced = await produceVcf(kafkaPublishers(kafka), path, { topic: config.topics.variants });
      assert.equal(produced.records, expected.records);
      const consumer = await consumeAll(config);
      assert.equal(consumer.stats.messages, expected.records);
      assert.deepEqual(consumer.stats.deadLetters, {});
      assert.deepEqual(await countStores(config), expectedCounts(expected));
    });

    test('publishing the same file again changes no count', async () => {
      await produceVcf(kafkaPublishers(kafka), path, { topic: config.topics.variants });
      const consumer = await consumeAll(config);
      assert.equal(consumer.stats.messages, expected.records, 'the second copy was consumed');
      assert.deepEqual(await countStores(config), expectedCounts(expected));
    });
  });
}

describe('a consumer restarted mid-stream', () => {
  // Small fetches and a small byte budget: the consumer pauses on `buffer-full` again and again,
  // so it is still mid-stream when stopped (a graceful stop writes everything already fetched).
  const config = testConfig({
    kafka: { topicPartitions: 1, fetchMaxBytes: '128Ki', fetchMaxBytesPerPartition: '64Ki' },
    batch: { maxBytes: '64Ki', maxInFlight: 1 },
  });
  const kafka = createKafka(config, silentLogger);

  test('resumes from its committed offsets and duplicates nothing', async () => {
    const path = fixtureVcf('giab_ashk_trio.bcsq.vcf.gz');
    const expected = await expectedFromVcf(path);
    await ensureTopics(kafka, config);
    await produceVcf(kafkaPublishers(kafka), path, { topic: config.topics.variants });

    const first = testConsumer(config);
    const pauses: string[][] = [];
    first.on('pause', (e: { reasons: string[] }) => pauses.push(e.reasons));
    await first.start();
    await waitFor(
      async () =>
        [
          ...(await committedOffsets(testKafka(), config.kafka.groupId, config.topics.variants)).values(),
        ].some((o) => o > 0),
      { timeoutMs: 60_000, message: 'a first commit' },
    );
    await first.stop();
    const committedAtStop = [
      ...(await committedOffsets(testKafka(), config.kafka.groupId, config.topics.variants)).values(),
    ];
    const doneAtStop = committedAtStop.reduce((n, o) => n + Math.max(0, o), 0);
    assert.ok(
      doneAtStop < expected.records,
      `stopped mid-stream (${doneAtStop} of ${expected.records} committed)`,
    );

    const second = await consumeAll(config);
    assert.ok(
      second.stats.messages <= expected.records - doneAtStop,
      'the second run re-read only uncommitted messages',
    );
    assert.deepEqual(await countStores(config), expectedCounts(expected));
  });
});
