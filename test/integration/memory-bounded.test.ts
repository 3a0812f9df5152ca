/**
 * Proves, on the real broker: a consumer (a child process, `varstream consume`) with a memory
 * limit, facing a backlog far larger than its budget and a sink slowed on purpose, never has an
 * RSS above the limit (sampled from /proc every 100 ms, and the kernel's own peak, VmHWM); its
 * partitions pause and resume (its logged events); and every message lands exactly once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import * as lancedb from '@lancedb/lancedb';
import { isolatedEnv, MeasuredConsumer } from '../../src/bench/child-process.ts';
import { loadConfig } from '../../src/config/index.ts';
import { ensureTopics } from '../../src/consumers/topics.ts';
import { produceEmbeddings } from '../../src/producer/produce-embeddings.ts';
import { ensureBroker, testKafka, uniqueName } from '../helpers/kafka.ts';

const MiB = 1024 ** 2;

before(() => {
  ensureBroker();
});

test('a backlog far above the memory budget, a slow sink: RSS stays under the limit, partitions pause and resume, all land once', async (t) => {
  const n = 30_000;
  const dim = 1536;
  const limit = 768 * MiB;
  const name = uniqueName('mem');
  const dir = mkdtempSync(join(tmpdir(), 'varstream-mem-'));
  const env = isolatedEnv(name, dir, {
    KAFKA_BROKERS: ensureBroker(),
    VARSTREAM_PIPELINES: 'embeddings',
    VARSTREAM_EMBEDDING_DIM: String(dim),
    VARSTREAM_MEMORY_LIMIT: String(limit),
    VARSTREAM_TEST_SINK_DELAY_MS: '700',
  });
  const config = loadConfig({ env });
  const kafka = testKafka();
  await ensureTopics(kafka, config);
  const produced = await produceEmbeddings(kafka, {
    topic: config.topics.embeddings,
    count: n,
    dim,
    encoding: 'f32',
  });
  assert.ok(produced.bytes > limit / 5, `backlog of ${Math.round(produced.bytes / MiB)} MiB`);
  const budget = config.memoryBudget;
  assert.ok(budget);
  const pipelineBudget = budget.batchMaxBytes * (budget.maxInFlight + 2);
  assert.ok(
    produced.bytes > 4 * pipelineBudget,
    `backlog ${produced.bytes} B, pipeline budget ${pipelineBudget} B`,
  );

  const consumer = new MeasuredConsumer(env);
  try {
    await consumer.waitCaughtUp(kafka, config.kafka.groupId, config.topics.embeddings, 600_000);
  } finally {
    const usage = await consumer.stop();
    t.diagnostic(
      `limit ${limit / MiB} MiB: peak RSS sampled ${Math.round(usage.peakRssBytes / MiB)} MiB, kernel ${Math.round(usage.hwmBytes / MiB)} MiB; ${JSON.stringify([...consumer.messages])}`,
    );
    assert.equal(usage.exitCode, 0, 'clean stop');
    assert.ok(usage.peakRssBytes > 0);
    assert.ok(
      usage.peakRssBytes <= limit,
      `sampled peak RSS ${Math.round(usage.peakRssBytes / MiB)} MiB <= ${limit / MiB} MiB`,
    );
    assert.ok(
      usage.hwmBytes <= limit,
      `kernel peak RSS ${Math.round(usage.hwmBytes / MiB)} MiB <= ${limit / MiB} MiB`,
    );
  }
  const paused = consumer.messages.get('paused partitions') ?? 0;
  const resumed = consumer.messages.get('resumed partitions') ?? 0;
  assert.ok(paused > 0, `partitions paused; logged: ${JSON.stringify([...consumer.messages])}`);
  assert.ok(resumed > 0, 'partitions resumed');

  const db = await lancedb.connect(config.lancedb.uri);
  const table = await db.openTable(config.lancedb.embeddingsTable);
  try {
    const ids = new Set<string>();
    for await (const batch of table.query().select(['id'])) {
      const column = batch.getChild('id');
      for (let i = 0; i < batch.numRows; i++) ids.add(String(column?.get(i)));
    }
    assert.equal(await table.countRows(), n, 'rows');
    assert.equal(ids.size, n, 'distinct ids');
  } finally {
    table.close();
    db.close();
  }
});
