/**
 * Proves, on real LanceDB and Kuzu on disk, the contract every sink must keep: writing a batch
 * twice leaves the store unchanged; a later message for the same variant replaces its site fields
 * and the genotypes it repeats; another cohort's samples add edges to the same variant; a batch
 * the Kuzu sink already applied (by its stored offsets) is skipped, also after a restart, and in a
 * batch straddling them only the rows of new messages are written; a long run of redelivered
 * batches does not fill Kuzu's buffer pool, and the statements it prepares stay bounded.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as lancedb from '@lancedb/lancedb';
import { VariantBatch } from '../../src/batching/variant-batch.ts';
import { decodeVariantMessage } from '../../src/contract/variant-decoder.ts';
import type { Delivery, SinkBatch } from '../../src/core/sink.ts';
import {
  CHECKPOINT_EVERY_WRITES,
  KuzuGraphSink,
  REOPEN_AFTER_PREPARED,
} from '../../src/sinks/kuzu/graph-sink.ts';
import { KuzuStore } from '../../src/sinks/kuzu/kuzu-store.ts';
import { lanceSession } from '../../src/sinks/lancedb/open-table.ts';
import { LanceVariantsSink } from '../../src/sinks/lancedb/variants-sink.ts';
import { silentLogger } from '../helpers/kafka.ts';

const site = { chrom: 'chr17', pos: 43045712, ref: 'G', alt: ['A', 'T'], genes: ['BRCA1'] };

/** Whether a write was skipped as already applied; a write that was not `written` fails the test. */
function skippedBy(delivery: Delivery): boolean | undefined {
  assert.equal(delivery.status, 'written', JSON.stringify(delivery));
  return delivery.status === 'written' ? delivery.skipped : undefined;
}

function batch(id: number, first: number, bodies: object[]): SinkBatch<VariantBatch> {
  const payload = new VariantBatch();
  bodies.forEach((body, i) => {
    payload.add(decodeVariantMessage(Buffer.from(JSON.stringify(body))), {
      topic: 'v',
      partition: 0,
      offset: first + i,
    });
  });
  return { id, topic: 'v', payload, ranges: [{ partition: 0, first, last: first + bodies.length - 1 }] };
}

const cohortA = batch(1, 0, [
  { ...site, qual: 10, samples: { A1: { GT: '0/1', DP: 10 }, A2: { GT: '1/2' } } },
  { chrom: 'chr1', pos: 5, ref: 'C', alt: 'T', genes: ['X&Y'], samples: { A1: { GT: '1|1' } } },
]);
/** Same variant later: new site fields, A1's genotype changed, a new cohort's sample. */
const cohortB = batch(2, 2, [
  { ...site, alt: ['A'], qual: 50, samples: { A1: { GT: '1/1', DP: 12 }, B1: { GT: '0/1' } } },
]);

async function startLanceSink(
  uri: string,
  cache: { indexCacheBytes: number; metadataCacheBytes: number },
  optimizeEveryWrites: number,
  onUpkeep?: (event: { action: string }) => void,
): Promise<LanceVariantsSink> {
  const sink = new LanceVariantsSink({
    uri,
    table: 'variants',
    upkeep: {
      optimizeEveryWrites,
      versionRetentionMs: 0,
      indexMinRows: 0,
      indexType: 'none',
      distance: 'cosine',
    },
    cache,
    logger: silentLogger,
    onUpkeep,
  });
  await sink.start();
  return sink;
}

describe('LanceDB variants sink', () => {
  test('repeats and later messages upsert by variant_id, through the key index', async () => {
    const uri = join(mkdtempSync(join(tmpdir(), 'lance-')), 'db');
    // Sizes of its own, so the session is not one another test of this process has filled.
    const cache = { indexCacheBytes: 33 * 1024 ** 2, metadataCacheBytes: 17 * 1024 ** 2 };
    const sink = await startLanceSink(uri, cache, 1);
    await sink.writeBatch(cohortA);
    await sink.writeBatch(cohortA);
    await sink.writeBatch(cohortB);
    // The table's metadata and index live in the session whose sizes come from the budget.
    assert.ok(lanceSession(cache).sizeBytes() > 0n, 'LanceDB caches in the budgeted session');
    await sink.close();
    const db = await lancedb.connect(uri);
    const table = await db.openTable('variants');
    const rows = await table.query().toArray();
    assert.deepEqual(rows.map((r) => String(r.variant_id)).sort(), [
      'chr1-5-C-T',
      'chr17-43045712-G-A',
      'chr17-43045712-G-T',
    ]);
    const a = rows.find((r) => r.variant_id === 'chr17-43045712-G-A');
    assert.equal(a?.qual, 50, 'the later message wins');
    assert.equal(Number(a?.kafka_offset), 2);
    // Upserts go through the key's BTREE index (no full-table join), kept current by optimize().
    const [index] = await table.listIndices();
    assert.deepEqual([index?.indexType, index?.columns], ['BTree', ['variant_id']]);
    assert.equal((await table.indexStats(index?.name as string))?.numUnindexedRows, 0);
    table.close();
    db.close();
  });

  test('the writes between two compactions are counted across a restart', async () => {
    const uri = join(mkdtempSync(join(tmpdir(), 'lance-')), 'db');
    const cache = { indexCacheBytes: 31 * 1024 ** 2, metadataCacheBytes: 15 * 1024 ** 2 };
    const events: string[] = [];
    const open = () => startLanceSink(uri, cache, 5, (e) => events.push(e.action));
    // One new variant per batch: one new fragment per merge-insert.
    const site = (i: number) => batch(i, i, [{ chrom: 'chr3', pos: 100 + i, ref: 'A', alt: 'C' }]);
    let sink = await open();
    for (let i = 0; i < 3; i++) await sink.writeBatch(site(i));
    await sink.close();
    assert.deepEqual(events, [], '3 writes of 5');
    // A new process finds 3 uncompacted fragments: its second write is the fifth.
    sink = await open();
    await sink.writeBatch(site(3));
    assert.deepEqual(events, []);
    await sink.writeBatch(site(4));
    assert.deepEqual(events, ['optimize'], 'compacted at the fifth write, across the restart');
    for (let i = 5; i < 9; i++) await sink.writeBatch(site(i));
    assert.deepEqual(events, ['optimize'], 'then after 5 more writes, not sooner');
    await sink.writeBatch(site(9));
    assert.deepEqual(events, ['optimize', 'optimize']);
    await sink.close();
  });
});

describe('Kuzu graph sink', () => {
  /** Counts the statements run with parameters: Kuzu keeps each one prepared until its connection closes. */
  class CountingStore extends KuzuStore {
    parameterised = 0;
    override run(statement: string, params?: Parameters<KuzuStore['run']>[1]) {
      if (params) this.parameterised++;
      return super.run(statement, params);
    }
  }

  async function open(
    path: string,
    poolMiB = 64,
    every?: ConstructorParameters<typeof KuzuGraphSink>[1],
  ): Promise<{ sink: KuzuGraphSink; store: CountingStore }> {
    const store = new CountingStore(path, poolMiB * 1024 * 1024);
    const sink = new KuzuGraphSink(store, every);
    await sink.start();
    return { sink, store };
  }

  async function edges(store: KuzuStore): Promise<string[]> {
    const rows = await store.run(
      'MATCH (v)-[e:CARRIED_BY]->(s:Sample) RETURN s.id AS s, v.id AS v, e.gt AS gt, e.dp AS dp',
    );
    return rows.map((r) => `${r.s}>${r.v} ${r.gt} ${r.dp}`).sort();
  }

  async function variantCount(store: KuzuStore): Promise<number> {
    return Number((await store.run('MATCH (v) WHERE v.key IS NOT NULL RETURN count(*) AS n'))[0]?.n);
  }

  test('repeats change nothing; later genotypes replace; other cohorts accumulate', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'kuzu-')), 'graph.kuzu');
    const { sink, store } = await open(path);
    await sink.writeBatch(cohortA);
    const unapplied = { ...cohortA, ranges: [] }; // no offsets: forces a real second write
    await sink.writeBatch(unapplied);
    assert.deepEqual(await edges(store), [
      'A1>chr1-5-C-T 1|1 null',
      'A1>chr17-43045712-G-A 0/1 10',
      'A2>chr17-43045712-G-A 1/2 null',
      'A2>chr17-43045712-G-T 1/2 null',
    ]);
    await sink.writeBatch(cohortB);
    await sink.writeBatch({ ...cohortB, ranges: [] });
    assert.deepEqual(await edges(store), [
      'A1>chr1-5-C-T 1|1 null',
      'A1>chr17-43045712-G-A 1/1 12',
      'A2>chr17-43045712-G-A 1/2 null',
      'A2>chr17-43045712-G-T 1/2 null',
      'B1>chr17-43045712-G-A 0/1 null',
    ]);
    assert.equal(await variantCount(store), 3);
    assert.equal(await store.count('(:Gene)'), 3);
    assert.equal(await store.count('(:Sample)'), 3);
    assert.equal(await store.count('()-[:IN_GENE]->()'), 4);
    const rows = await store.run("MATCH (v) WHERE v.id = 'chr17-43045712-G-A' RETURN v.qual AS q");
    assert.equal(rows[0]?.q, 50);
    const counts = await store.run('MATCH (s:Sample) RETURN s.id AS sid, s.variants AS n ORDER BY sid');
    assert.deepEqual(
      counts.map((r) => `${r.sid}:${r.n}`),
      ['A1:2', 'A2:2', 'B1:1'],
      'each sample counts its CARRIED_BY edges once, however often they were written',
    );
    await sink.close();
  });

  test('a batch already applied is skipped, also after a restart', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'kuzu-')), 'graph.kuzu');
    let { sink } = await open(path);
    assert.equal(skippedBy(await sink.writeBatch(cohortA)), undefined);
    assert.equal(skippedBy(await sink.writeBatch(cohortA)), true);
    await sink.close();
    ({ sink } = await open(path));
    assert.equal(skippedBy(await sink.writeBatch(cohortA)), true, 'offsets survive a restart');
    assert.equal(skippedBy(await sink.writeBatch(cohortB)), undefined);
    await sink.close();
  });

  test('a batch straddling what was applied writes only the rows of messages not applied yet', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'kuzu-')), 'graph.kuzu');
    const { sink, store } = await open(path);
    const first = { chrom: 'chr3', pos: 10, ref: 'A', alt: 'G', qual: 1, samples: { S1: { GT: '0/1' } } };
    await sink.writeBatch(batch(1, 0, [first]));
    // Offset 0 again (a redelivery after a crash, batched differently) with offset 1 new. The
    // copy of offset 0 here says otherwise only to show that its row is not written again.
    const later = {
      chrom: 'chr3',
      pos: 11,
      ref: 'C',
      alt: 'T',
      samples: { S1: { GT: '1/1' }, S2: { GT: '0/1' } },
    };
    const result = await sink.writeBatch(
      batch(2, 0, [{ ...first, qual: 99, samples: { S1: { GT: '1/1' } } }, later]),
    );
    assert.equal(skippedBy(result), undefined);
    assert.deepEqual(await edges(store), [
      'S1>chr3-10-A-G 0/1 null',
      'S1>chr3-11-C-T 1/1 null',
      'S2>chr3-11-C-T 0/1 null',
    ]);
    const qual = await store.run("MATCH (v) WHERE v.id = 'chr3-10-A-G' RETURN v.qual AS q");
    assert.equal(qual[0]?.q, 1, 'the applied message was not written again');
    const counts = await store.run('MATCH (s:Sample) RETURN s.id AS sid, s.variants AS n ORDER BY sid');
    assert.deepEqual(
      counts.map((r) => `${r.sid}:${r.n}`),
      ['S1:2', 'S2:1'],
    );
    await sink.close();
  });

  test('values with commas, quotes and newlines reach Kuzu intact', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'kuzu-')), 'graph.kuzu');
    const { sink, store } = await open(path);
    const odd = 'S,"quoted"\nline';
    await sink.writeBatch(
      batch(1, 0, [
        { chrom: '1', pos: 1, ref: 'A', alt: 'G', id: "rs1'; DROP", samples: { [odd]: { GT: '0/1' } } },
      ]),
    );
    const rows = await store.run('MATCH (v)-[:CARRIED_BY]->(s:Sample) RETURN s.id AS s, v.rsid AS r');
    assert.deepEqual(rows, [{ s: odd, r: "rs1'; DROP" }]);
    await sink.close();
  });

  test('800 redelivered batches fit a 32 MiB pool, across reopens, with prepared statements bounded', async () => {
    // Without the sink's checkpoints Kuzu kept each offset update in the pool until its 16 MiB
    // WAL threshold: a 16 MiB pool failed with "buffer pool is full" at batch 340. Every few
    // checkpoints the sink closes and opens the store (what Kuzu holds per checkpoint, and per
    // prepared statement, returns only then), and the writes go on across it.
    const path = join(mkdtempSync(join(tmpdir(), 'kuzu-')), 'graph.kuzu');
    // Reopens every 4 checkpoints here (REOPEN_EVERY_CHECKPOINTS in production).
    const { sink, store } = await open(path, 32, {
      checkpointWrites: CHECKPOINT_EVERY_WRITES,
      reopenCheckpoints: 4,
    });
    const body = { chrom: 'chr2', pos: 7, ref: 'A', alt: 'G', genes: ['G1'], samples: { S1: { GT: '0/1' } } };
    const batches = 800;
    assert.ok(batches > 10 * CHECKPOINT_EVERY_WRITES);
    let mostPrepared = 0;
    for (let i = 0; i < batches; i++) {
      // Three partitions per batch, as a batch of a three-partition topic carries; each a new
      // message about the same site, so each batch reads what exists and writes only its offsets.
      const ranges = [0, 1, 2].map((partition) => ({ partition, first: i, last: i }));
      const result = await sink.writeBatch({ ...batch(i + 1, i, [body]), ranges });
      assert.equal(skippedBy(result), undefined, `batch ${i + 1} written`);
      mostPrepared = Math.max(mostPrepared, store.preparedSinceOpen);
    }
    assert.equal(await variantCount(store), 1);
    assert.equal(await store.count('()-[:CARRIED_BY]->()'), 1);
    const offsets = await store.run('MATCH (o:KafkaOffset) RETURN o.next_offset AS n');
    assert.deepEqual(
      offsets.map((r) => Number(r.n)),
      [batches, batches, batches],
    );
    assert.equal(sink.checkpoints, Math.floor(batches / CHECKPOINT_EVERY_WRITES));
    assert.ok(sink.reopens >= Math.floor(sink.checkpoints / 4), `${sink.reopens} reopens`);
    assert.ok(mostPrepared <= REOPEN_AFTER_PREPARED + 16, `at most ${mostPrepared} statements held`);
    await sink.close();
  });
});
