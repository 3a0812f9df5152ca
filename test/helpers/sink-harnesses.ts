/**
 * One harness per registered sink, for the sink conformance suite
 * (test/integration/sink-conformance.test.ts) and its crash child (sink-crash-child.ts). A harness
 * builds the sink from the registry over a directory, makes batches of keyed records, each with a
 * version, and reads back what the store holds with the store's own client (never the sink).
 */
import { join } from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { EmbeddingBatch } from '../../src/batching/embedding-batch.ts';
import { VariantBatch } from '../../src/batching/variant-batch.ts';
import { type Config, loadConfig } from '../../src/config/index.ts';
import { decodeEmbeddingMessage } from '../../src/contract/embedding-decoder.ts';
import { rawMessage } from '../../src/contract/raw-message.ts';
import { decodeVariantMessage } from '../../src/contract/variant-decoder.ts';
import { createLogger } from '../../src/core/logger.ts';
import type { Sink, SinkBatch } from '../../src/core/sink.ts';
import { KuzuStore } from '../../src/sinks/kuzu/kuzu-store.ts';
import { VectorDimension } from '../../src/sinks/lancedb/embeddings-sink.ts';
import { EMBEDDING_SINK_FACTORIES, VARIANT_SINK_FACTORIES } from '../../src/sinks/registry.ts';

export const DIM = 4;
const logger = createLogger('silent');

/** A record: its key and a version the store keeps (so that the newest write can be told). */
export type Record_ = readonly [key: number, version: number];

export interface SinkHarness<P> {
  name: string;
  make(dir: string): Sink<P>;
  /** A batch of `records` at offsets first, first + 1, ... of partition 0. */
  batch(id: number, first: number, records: readonly Record_[]): SinkBatch<P>;
  /** key -> the versions the store holds for it (one per stored copy, rows and edges alike). */
  read(dir: string): Promise<Map<number, number[]>>;
  /** A batch of one record the store refuses (and one it takes), or why the sink has none. */
  refused(id: number, first: number): SinkBatch<P> | string;
}

function config(dir: string): Config {
  return loadConfig({
    env: {},
    overrides: {
      lancedb: { uri: join(dir, 'lancedb'), optimizeEveryWrites: 0, indexMinRows: 0 },
      kuzu: { path: join(dir, 'kuzu', 'graph.kuzu'), bufferPoolBytes: '64Mi' },
      embeddings: { dim: DIM },
    },
  });
}

function variantBatch(id: number, first: number, bodies: object[]): SinkBatch<VariantBatch> {
  const payload = new VariantBatch();
  for (const [i, body] of bodies.entries())
    payload.add(decodeVariantMessage(Buffer.from(JSON.stringify(body))), {
      topic: 'v',
      partition: 0,
      offset: first + i,
    });
  return { id, topic: 'v', payload, ranges: [{ partition: 0, first, last: first + bodies.length - 1 }] };
}

/** Variant `1-{key}-A-G` carried by sample S, with qual = version. */
const variantBody = ([key, version]: Record_) => ({
  chrom: '1',
  pos: key,
  ref: 'A',
  alt: 'G',
  qual: version,
  samples: { S: { GT: '0/1', DP: version } },
});
const posOf = (id: string) => Number(id.split('-')[1]);

function push(out: Map<number, number[]>, key: number, version: number): void {
  out.set(key, [...(out.get(key) ?? []), version]);
}

async function readLance(
  dir: string,
  table: string,
  key: string,
  version: string,
  parse: (row: Record<string, unknown>) => [number, number],
) {
  const out = new Map<number, number[]>();
  const db = await lancedb.connect(join(dir, 'lancedb'));
  try {
    if (!(await db.tableNames()).includes(table)) return out;
    const rows = await (await db.openTable(table)).query().select([key, version]).toArray();
    for (const row of rows) push(out, ...parse(row as Record<string, unknown>));
  } finally {
    db.close();
  }
  return out;
}

const lanceVariants: SinkHarness<VariantBatch> = {
  name: 'lancedb (variants)',
  make: (dir) => VARIANT_SINK_FACTORIES.lancedb({ config: config(dir), logger }),
  batch: (id, first, records) => variantBatch(id, first, records.map(variantBody)),
  read: (dir) =>
    readLance(dir, 'variants', 'variant_id', 'qual', (r) => [posOf(String(r.variant_id)), Number(r.qual)]),
  refused: (id, first) => {
    const b = variantBatch(id, first, [variantBody([1, 1]), variantBody([2, 1])]);
    b.payload.variants.pos[1] = 2.5; // not an int64
    return b;
  },
};

const kuzuGraph: SinkHarness<VariantBatch> = {
  name: 'kuzu (variants)',
  make: (dir) => VARIANT_SINK_FACTORIES.kuzu({ config: config(dir), logger }),
  batch: lanceVariants.batch,
  read: async (dir) => {
    const out = new Map<number, number[]>();
    const store = new KuzuStore(join(dir, 'kuzu', 'graph.kuzu'), 64 * 1024 * 1024, true);
    await store.open();
    try {
      for (const row of await store.run('MATCH (v) WHERE v.key IS NOT NULL RETURN v.id AS id, v.qual AS q'))
        push(out, posOf(String(row.id)), Number(row.q));
      // Each CARRIED_BY edge is a stored copy too: its DP is the version.
      for (const row of await store.run('MATCH (v)-[c:CARRIED_BY]->(:Sample) RETURN v.id AS id, c.dp AS dp'))
        push(out, -posOf(String(row.id)), Number(row.dp));
    } finally {
      await store.close();
    }
    return out;
  },
  refused: (id, first) => {
    const b = variantBatch(id, first, [variantBody([1, 1]), variantBody([2, 1])]);
    b.payload.calls.dp[1] = 2.5; // not an INT64
    return b;
  },
};

function embeddingBatch(id: number, first: number, records: readonly Record_[]): SinkBatch<EmbeddingBatch> {
  const payload = new EmbeddingBatch();
  records.forEach(([key, version], i) => {
    const body = { id: `e${key}`, vector: [key, version, 0.5, 0.25], model: `v${version}` };
    payload.add(decodeEmbeddingMessage(rawMessage(Buffer.from(JSON.stringify(body))), DIM), {
      topic: 'e',
      partition: 0,
      offset: first + i,
    });
  });
  return { id, topic: 'e', payload, ranges: [{ partition: 0, first, last: first + records.length - 1 }] };
}

const lanceEmbeddings: SinkHarness<EmbeddingBatch> = {
  name: 'lancedb (embeddings)',
  make: (dir) =>
    EMBEDDING_SINK_FACTORIES.lancedb({ config: config(dir), logger, dimension: new VectorDimension(DIM) }),
  batch: embeddingBatch,
  read: (dir) =>
    readLance(dir, 'embeddings', 'id', 'model', (r) => [
      Number(String(r.id).slice(1)),
      Number(String(r.model).slice(1)),
    ]),
  refused: () =>
    'its payload holds decoded vectors of the table dimension only: nothing reaches it that Arrow refuses',
};

// biome-ignore lint/suspicious/noExplicitAny: harnesses of different payload types side by side
export const SINK_HARNESSES: Record<string, SinkHarness<any>> = {
  'lancedb-variants': lanceVariants,
  kuzu: kuzuGraph,
  'lancedb-embeddings': lanceEmbeddings,
};
