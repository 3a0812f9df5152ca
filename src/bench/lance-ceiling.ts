/**
 * LanceDB's own write paths on the embeddings the bench's embeddings scenarios drain, timed in the
 * same run (the store ceiling their `ratioToStoreCeiling` divides by): the same number of 1,536-d
 * vectors (same generator, seed and clusters), cut into the batches the sink gets at its batch
 * ceiling, built as Arrow by the sink's own conversion before timing, then written into an empty
 * table of the sink's schema and key index, once with `add` and once with the sink's
 * `mergeInsert`.
 */
import { join } from 'node:path';
import type * as lancedb from '@lancedb/lancedb';
import type { Schema, Table } from 'apache-arrow';
import { EmbeddingBatch } from '../batching/embedding-batch.ts';
import { EmbeddingGenerator } from '../producer/synthetic-embeddings.ts';
import { embeddingsSchema, embeddingsToArrow } from '../sinks/lancedb/embedding-arrow.ts';
import { openLanceTable } from '../sinks/lancedb/open-table.ts';

export interface LanceCeiling {
  rows: number;
  batchRows: number;
  addRowsPerSec: number;
  mergeRowsPerSec: number;
  addSeconds: number;
  mergeSeconds: number;
}

const CACHE = { indexCacheBytes: 8 * 1024 ** 2, metadataCacheBytes: 8 * 1024 ** 2 };

export async function lanceEmbeddingCeiling(
  dir: string,
  options: { rows: number; dim: number; batchRows: number },
): Promise<LanceCeiling> {
  const { rows, dim, batchRows } = options;
  const schema = embeddingsSchema(dim);
  const generator = new EmbeddingGenerator({ dim, seed: 42 });
  const batches: ReturnType<typeof embeddingsToArrow>[] = [];
  for (let first = 0; first < rows; first += batchRows) {
    const count = Math.min(batchRows, rows - first);
    const vectors = new Float32Array(count * dim);
    for (let r = 0; r < count; r++) generator.next(vectors.subarray(r * dim, (r + 1) * dim));
    const ids = Array.from({ length: count }, (_, r) => `emb-${first + r}`);
    const none = ids.map(() => null);
    const batch = new EmbeddingBatch();
    batch.add(
      { count, dim, ids, vectors, model: none, sourceKind: none, sourceId: none, text: none, metadata: none },
      { topic: 'ceiling', partition: 0, offset: first },
    );
    batches.push(embeddingsToArrow(batch, schema, Date.now()));
  }
  const timed = await timeLanceWrites(dir, 'embeddings', 'id', schema, batches, rows);
  return {
    rows,
    batchRows,
    ...timed,
  };
}

/** LanceDB's write rates of `batches` (`rows` in all): `add` into an empty table, then `mergeInsert` into another. */
export async function timeLanceWrites(
  dir: string,
  name: string,
  key: string,
  schema: Schema,
  batches: readonly Table[],
  rows: number,
): Promise<Pick<LanceCeiling, 'addRowsPerSec' | 'mergeRowsPerSec' | 'addSeconds' | 'mergeSeconds'>> {
  const timed = async (path: string, write: (table: lancedb.Table, data: Table) => Promise<unknown>) => {
    const opened = await openLanceTable(join(dir, path), name, key, () => schema, CACHE);
    try {
      const started = performance.now();
      for (const data of batches) await write(opened.table, data);
      return (performance.now() - started) / 1000;
    } finally {
      opened.close();
    }
  };
  const addSeconds = await timed('add', (table, data) => table.add(data));
  const mergeSeconds = await timed('merge', (table, data) =>
    table.mergeInsert(key).whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(data),
  );
  return {
    addRowsPerSec: Math.round(rows / addSeconds),
    mergeRowsPerSec: Math.round(rows / mergeSeconds),
    addSeconds: Math.round(addSeconds * 100) / 100,
    mergeSeconds: Math.round(mergeSeconds * 100) / 100,
  };
}
