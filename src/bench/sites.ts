/**
 * The `sites` workload: annotated sites without samples (the shape of gnomAD's or ClinVar's
 * releases), made from the real variant corpus by dropping each record's samples (and the records
 * that make no variant row); and LanceDB's
 * own write paths on the same rows in the same run (the store ceiling of `sites`): the same first
 * messages, decoded by the contract's decoder into the sink's column batches, built as Arrow by
 * the sink's own conversion before timing, then written into an empty table of the sink's schema
 * and key index with `add`, and again with the sink's `mergeInsert`.
 */
import { VariantBatch } from '../batching/variant-batch.ts';
import { decodeVariantMessage } from '../contract/variant-decoder.ts';
import type { OutgoingMessage } from '../core/publisher.ts';
import { VARIANTS_SCHEMA, variantsToArrow } from '../sinks/lancedb/variant-arrow.ts';
import { type LanceCeiling, timeLanceWrites } from './lance-ceiling.ts';
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

export interface SitesCeiling extends LanceCeiling {
  messages: number;
  /** Variant rows (one per ALT allele) the messages make. */
  rows: number;
}

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
  const timed = await timeLanceWrites(dir, 'variants', 'variant_id', VARIANTS_SCHEMA, batches, rows);
  return {
    messages: n,
    rows,
    batchRows: Math.round(rows / Math.max(1, batches.length)),
    ...timed,
  };
}
