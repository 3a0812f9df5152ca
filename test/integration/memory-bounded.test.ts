/**
 * Proves, on the real broker: a consumer (a child process, `varstream consume`) with a memory
 * limit, facing a backlog far larger than its budget and a sink slowed on purpose, never has an
 * RSS above the limit (sampled from /proc every 100 ms, and the kernel's own peak, VmHWM; where a
 * memory cgroup can be made, the child runs in one of that limit, as in a pod, and is not
 * OOM-killed); its
 * partitions pause and resume (its logged events); and every message lands exactly once. When the
 * sink's own memory rises while it writes (a test-only ballast), the memory monitor's levels rise,
 * pause partitions for `memory`, and every such pause is lifted again.
 */

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, type TestContext, test } from 'node:test';
import * as lancedb from '@lancedb/lancedb';
import { isolatedEnv, MeasuredConsumer } from '../../src/bench/child-process.ts';
import { MemoryCgroup } from '../../src/bench/memory-cgroup.ts';
import { loadConfig } from '../../src/config/index.ts';
import { kafkaPublishers } from '../../src/consumers/publisher.ts';
import { ensureTopics } from '../../src/consumers/topics.ts';
import { produceEmbeddings } from '../../src/producer/produce-embeddings.ts';
import { ensureBroker, testKafka, uniqueName } from '../helpers/kafka.ts';
import { waitFor } from '../helpers/wait.ts';

const MiB = 1024 ** 2;

before(() => {
  ensureBroker();
});

interface Run {
  consumer: MeasuredConsumer;
  usage: { peakRssBytes: number; hwmBytes: number; exitCode: number | null };
  /** The child's log lines about memory levels and pauses, parsed. */
  events: Array<{ msg: string; level?: string; reasons?: string[]; partitions?: number[]; held?: unknown[] }>;
}

/** True when each partition's last pause/resume event is a resume. */
function pausesLifted(events: Run['events']): boolean {
  const last = new Map<number, string>();
  for (const e of events)
    if (e.msg.endsWith('partitions')) for (const p of e.partitions ?? []) last.set(p, e.msg);
  return [...last.values()].every((msg) => msg === 'resumed partitions');
}

/** n × 1536-d f32 embeddings, then a consumer child at `limit` with every sink write delayed. */
async function runBounded(
  t: TestContext,
  limit: number,
  n: number,
  extra: Record<string, string> = {},
): Promise<Run> {
  const dim = 1536;
  const name = uniqueName('mem');
  const dir = mkdtempSync(join(tmpdir(), 'varstream-mem-'));
  const env = isolatedEnv(name, dir, {
    KAFKA_BROKERS: ensureBroker(),
    VARSTREAM_PIPELINES: 'embeddings',
    VARSTREAM_EMBEDDING_DIM: String(dim),
    VARSTREAM_MEMORY_LIMIT: String(limit),
    VARSTREAM_TEST_SINK_DELAY_MS: '700',
    ...extra,
  });
  const config = loadConfig({ env });
  const kafka = testKafka();
  await ensureTopics(kafka, config);
  const produced = await produceEmbeddings(kafkaPublishers(kafka), {
    topic: config.topics.embeddings,
    count: n,
    dim,
    encoding: 'f32',
  });
  const budget = config.memoryBudget;
  assert.ok(budget);
  const pipelineBudget = budget.batchMaxBytes * (budget.maxInFlight + 2);
  assert.ok(
    produced.bytes > 4 * pipelineBudget,
    `backlog ${produced.bytes} B, pipeline budget ${pipelineBudget} B`,
  );

  const events: Run['events'] = [];
  const cgroup = MemoryCgroup.create(name, limit);
  const consumer = new MeasuredConsumer(env, {
    cgroup,
    onLine: (line) => {
      if (
        !/"msg":"(memory level (rose|fell)|paused partitions|resumed partitions|paused for memory)"/.test(
          line,
        )
      )
        return;
      const { msg, level, reasons, partitions, topics } = JSON.parse(line);
      // 'paused for memory' names what each level paused: { topic: partitions } or whole topics.
      const held =
        msg === 'paused for memory'
          ? [...Object.values(partitions ?? {}).flat(), ...(topics ?? [])]
          : undefined;
      events.push({ msg, level, reasons: reasons?.flat(), partitions: held ? undefined : partitions, held });
    },
  });
  let usage: Run['usage'];
  try {
    await consumer.waitCaughtUp(kafka, config.kafka.groupId, config.topics.embeddings, 600_000);
    // A pause taken during the last writes is lifted once memory falls (or after the 5 s guard):
    // wait for that before stopping, so a pause that is never lifted fails the run.
    await waitFor(() => pausesLifted(events), {
      timeoutMs: 30_000,
      message: 'every paused partition resumed after the backlog was drained',
    });
  } finally {
    usage = await consumer.stop();
    t.diagnostic(
      `limit ${limit / MiB} MiB (${cgroup ? `in a memory cgroup, its peak ${Math.round((cgroup.peakBytes() ?? 0) / MiB)} MiB with page cache` : 'no memory cgroup here'}): peak RSS sampled ${Math.round(usage.peakRssBytes / MiB)} MiB, kernel ${Math.round(usage.hwmBytes / MiB)} MiB; ${JSON.stringify([...consumer.messages])}`,
    );
  }
  const oomKills = cgroup?.oomKills() ?? 0;
  cgroup?.remove();
  assert.equal(oomKills, 0, 'not OOM-killed at its limit');
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
  return { consumer, usage, events };
}

test('a backlog far above the memory budget, a slow sink: RSS stays under the limit, partitions pause and resume, all land once', async (t) => {
  const { consumer } = await runBounded(t, 768 * MiB, 50_000);
  const paused = consumer.messages.get('paused partitions') ?? 0;
  const resumed = consumer.messages.get('resumed partitions') ?? 0;
  assert.ok(paused > 0, `partitions paused; logged: ${JSON.stringify([...consumer.messages])}`);
  assert.ok(resumed > 0, 'partitions resumed');
});

test('a sink whose working set rises while it writes: the levels rise, partitions pause for memory, every pause is lifted, all land once', async (t) => {
  // 768 MiB: WARNING at 592, CRITICAL at 680, EMERGENCY at 730 MiB. The pipeline's byte budget
  // alone keeps RSS near 420 MiB (the test above); here each write also holds memory until RSS is
  // 640 MiB (in a worker thread, freed when the write returns, as a native store frees its working
  // set): a store whose working set rises, which only the levels can answer.
  const { events } = await runBounded(t, 768 * MiB, 50_000, { VARSTREAM_TEST_SINK_BALLAST_RSS: '640Mi' });
  const rose = events.filter((e) => e.msg === 'memory level rose');
  t.diagnostic(`levels: ${rose.map((e) => e.level).join(', ')}`);
  assert.ok(rose.length > 0, 'the memory level rose above NORMAL');
  // A partition the level pauses may already be paused (buffer-full): it gains the reason, and
  // the consumer's 'paused for memory' line says which partitions (or topics) the level held.
  assert.ok(
    events.some(
      (e) =>
        (e.msg === 'paused partitions' && e.reasons?.includes('memory')) ||
        (e.msg === 'paused for memory' && (e.held?.length ?? 0) > 0),
    ),
    `partitions paused for memory; events: ${JSON.stringify(events.filter((e) => !e.msg.endsWith('partitions')))}`,
  );
  assert.ok(pausesLifted(events), 'no partition left paused');
});
