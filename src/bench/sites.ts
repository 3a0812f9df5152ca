/**
 * The `sites` workload: annotated sites without samples (the shape of gnomAD's or ClinVar's
 * releases), made from the real variant corpus by dropping each record's samples (and the records
 * that make no variant row); and LanceDB's
 * own write paths on the same rows in the same run (the store ceiling of `sites`): the same first
 * messages, decoded by the contract's decoder into the sink's column batches, built as Arrow by
 * the sink's own conversion before timing, then written into an empty table of the sink's schema
 * and key index with `add`, and again with the sink's `mergeInsert`.
 */
import { join } from 'node:path';
import { VariantBatch } from '../batching/variant-batch.ts';
import { decodeVariantMessage } from '../contract/variant-decoder.ts';
import type { OutgoingMessage } from '../core/publisher.ts';
import { openLanceTable } from '../sinks/lancedb/open-table.ts';
import { VARIANTS_SCHEMA, variantsToArrow } from '../sinks/lancedb/variant-arrow.ts';
import { realVariantMessages } from './real-variants.ts';

/**
 * The real corpus's messages without their samples (and calls): sites. Records that make no
 * variant row (a gVCF's reference blocks, `<NON_REF>` only) are left out: a sites release has none.
 */
export async function* siteMessages(): AsyncGenerator<OutgoingMessage> {
  for await (const message of realVariantMessages()) {
    const body = JSON.parse(String(message.value)) as Record<string, unknown>;
    delete body.samples;
    const value = JSON.stringify(body);
    if (decodeVariantMessage(Buffer.from(value)).variants.length === 0) continue;
    yield { ...message, value };
  }
}

export interface SitesCeiling {
  messages: number;
  /** Variant rows (one per ALT allele) the messages make. */
  rows: number;
  batchRows: number;
  addRowsPerSec: number;
  mergeRowsPerSec: number;
  addSeconds: number;
  mergeSeconds: number;
}

const CACHE = { indexCacheBytes: 8 * 1024 ** 2, metadataCacheBytes: 8 * 1024 ** 2 };

/** The first `messages` site messages as the LanceDB variants sink's Arrow batches, then timed writes. */
export async function lanceSitesCeiling(
  dir: string,
  options: { messages: number; batchMessages: number },
): Promise<SitesCeiling> {
  const batches: ReturnType<typeof variantsToArrow>[] = [];
  let batch = new VariantBatch();
  let inBatch = 0;
  let rows = 0;
  let n = 0;
  const seal = () => {
    if (batch.variants.length > 0) {
      rows += batch.variants.length;
      batches.push(variantsToArrow(batch.variants, Date.now()));
    }
    batch = new VariantBatch();
    inBatch = 0;
  };
  for await (const message of siteMessages()) {
    if (n >= options.messages) break;
    const value = typeof message.value === 'string' ? Buffer.from(message.value) : message.value;
    batch.add(decodeVariantMessage(value), { topic: 'ceiling', partition: 0, offset: n++ });
    if (++inBatch >= options.batchMessages) seal();
  }
  seal();
  const timed = async (
    name: string,
    write: (
      table: Awaited<ReturnType<typeof openLanceTable>>['table'],
      data: (typeof batches)[number],
    ) => Promise<unknown>,
  ) => {
    const opened = await openLanceTable(
      join(dir, name),
      'variants',
      'variant_id',
      () => VARIANTS_SCHEMA,
      CACHE,
    );
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
    table.mergeInsert('variant_id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(data),
  );
  return {
    messages: n,
    rows,
    batchRows: Math.round(rows / Math.max(1, batches.length)),
    addRowsPerSec: Math.round(rows / addSeconds),
    mergeRowsPerSec: Math.round(rows / mergeSeconds),
    addSeconds: Math.round(addSeconds * 100) / 100,
    mergeSeconds: Math.round(mergeSeconds * 100) / 100,
  };
}
