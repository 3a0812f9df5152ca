/**
 * Proves: a second group member joining mid-stream (an eager rebalance: every partition is revoked
 * and reassigned) loses nothing and duplicates nothing; buffered records of the old generation are
 * dropped and re-read from the committed offsets, and upserts absorb what is written twice.
 * Both members write one LanceDB directory (Kuzu allows one writer per database, so it is left out).
 */

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { createKafka } from '../../src/consumers/kafka-client.ts';
import { kafkaPublishers } from '../../src/consumers/publisher.ts';
import { ensureTopics } from '../../src/consumers/topics.ts';
import { produceVcf } from '../../src/producer/produce-vcf.ts';
import {
  countLance,
  ensureBroker,
  fixtureVcf,
  silentLogger,
  testConfig,
  testConsumer,
  testKafka,
  waitUntilCaughtUp,
} from '../helpers/kafka.ts';
import { expectedFromVcf } from '../helpers/vcf-expectations.ts';
import { waitFor } from '../helpers/wait.ts';

before(() => {
  ensureBroker();
});

test('a member joining mid-stream: every variant exactly once', async () => {
  const path = fixtureVcf('giab_ashk_trio.bcsq.vcf.gz');
  const config = testConfig({
    kafka: { topicPartitions: 4, fetchMaxBytes: '128Ki', fetchMaxBytesPerPartition: '32Ki' },
    variants: { sinks: 'lancedb' },
    batch: { maxBytes: '64Ki', maxInFlight: 1 },
  });
  const expected = await expectedFromVcf(path);
  await ensureTopics(createKafka(config, silentLogger), config);
  await produceVcf(kafkaPublishers(createKafka(config, silentLogger)), path, {
    topic: config.topics.variants,
  });

  const first = testConsumer(config);
  const joins: Array<Record<string, number[]>> = [];
  first.on('joined', (assignment: Record<string, number[]>) => joins.push(assignment));
  let batches = 0;
  first.on('batch', () => batches++);
  await first.start();
  await waitFor(() => batches >= 3, {
    timeoutMs: 60_000,
    message: 'the first member to write a few batches',
  });

  const second = testConsumer(config);
  await second.start();
  await waitFor(() => joins.length >= 2, { timeoutMs: 60_000, message: 'the first member to rejoin' });
  const partitionsOfFirst = Object.values(joins.at(-1) ?? {}).flat().length;
  assert.ok(
    partitionsOfFirst > 0 && partitionsOfFirst < 4,
    `the partitions were shared (first has ${partitionsOfFirst})`,
  );

  await waitUntilCaughtUp(testKafka(), config);
  await Promise.all([first.stop(), second.stop()]);
  assert.deepEqual(await countLance(config), {
    rows: expected.variants.size,
    distinctIds: expected.variants.size,
  });
});
