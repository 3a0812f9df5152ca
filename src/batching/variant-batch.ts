/**
 * A micro-batch of decoded variant messages, held column-wise (one array per column, no row
 * objects) and de-duplicated as it fills: the last message per variant id wins, and each
 * (sample, variant) call and (variant, gene) pair appears once. Sinks read the columns directly.
 */
import type { DecodedVariantMessage } from '../contract/variant-decoder.ts';

export interface Lineage {
  topic: string;
  partition: number;
  offset: number;
}

export class VariantColumns {
  readonly variantId: string[] = [];
  readonly chrom: string[] = [];
  readonly pos: number[] = [];
  readonly ref: string[] = [];
  readonly alt: string[] = [];
  readonly rsid: Array<string | null> = [];
  readonly qual: Array<number | null> = [];
  readonly filter: string[][] = [];
  readonly genes: string[][] = [];
  readonly info: string[] = [];
  readonly sampleCount: number[] = [];
  readonly source: Array<string | null> = [];
  readonly topic: string[] = [];
  readonly partition: number[] = [];
  readonly offset: number[] = [];

  get length(): number {
    return this.variantId.length;
  }
}

export class CallColumns {
  readonly sample: string[] = [];
  readonly variantId: string[] = [];
  readonly gt: string[] = [];
  readonly zygosity: string[] = [];
  readonly dp: Array<number | null> = [];
  readonly gq: Array<number | null> = [];
  /** The message each call came from (the graph sink skips what it applied before). */
  readonly partition: number[] = [];
  readonly offset: number[] = [];

  get length(): number {
    return this.sample.length;
  }
}

export class VariantBatch {
  readonly variants = new VariantColumns();
  readonly calls = new CallColumns();
  /** (variant, gene) pairs, column-wise, with the message that first named each. */
  readonly geneVariant: string[] = [];
  readonly geneSymbol: string[] = [];
  readonly genePartition: number[] = [];
  readonly geneOffset: number[] = [];
  readonly samples = new Set<string>();
  readonly genes = new Set<string>();

  private readonly variantIndex = new Map<string, number>();
  private readonly callIndex = new Map<string, number>();
  private readonly genePairs = new Set<string>();

  add(message: DecodedVariantMessage, lineage: Lineage): void {
    for (const v of message.variants) {
      const i = this.slot(this.variantIndex, v.variantId, this.variants.length);
      const c = this.variants;
      c.variantId[i] = v.variantId;
      c.chrom[i] = v.chrom;
      c.pos[i] = v.pos;
      c.ref[i] = v.ref;
      c.alt[i] = v.alt;
      c.rsid[i] = v.rsid;
      c.qual[i] = v.qual;
      c.filter[i] = v.filter;
      c.genes[i] = v.genes;
      c.info[i] = v.info;
      c.sampleCount[i] = v.sampleCount;
      c.source[i] = v.source;
      c.topic[i] = lineage.topic;
      c.partition[i] = lineage.partition;
      c.offset[i] = lineage.offset;
      for (const gene of v.genes) this.addGenePair(v.variantId, gene, lineage);
    }
    for (const sample of message.samples) this.samples.add(sample);
    for (const call of message.calls) {
      const i = this.slot(this.callIndex, `${call.sample}\u0000${call.variantId}`, this.calls.length);
      const c = this.calls;
      c.sample[i] = call.sample;
      c.variantId[i] = call.variantId;
      c.gt[i] = call.gt;
      c.zygosity[i] = call.zygosity;
      c.dp[i] = call.dp;
      c.gq[i] = call.gq;
      c.partition[i] = lineage.partition;
      c.offset[i] = lineage.offset;
    }
  }

  get isEmpty(): boolean {
    return this.variants.length === 0 && this.samples.size === 0;
  }

  private addGenePair(variantId: string, gene: string, lineage: Lineage): void {
    const key = `${variantId}\u0000${gene}`;
    if (this.genePairs.has(key)) return;
    this.genePairs.add(key);
    this.genes.add(gene);
    this.geneVariant.push(variantId);
    this.geneSymbol.push(gene);
    this.genePartition.push(lineage.partition);
    this.geneOffset.push(lineage.offset);
  }

  /** The row a key occupies: its existing row (last write wins) or the next free one. */
  private slot(index: Map<string, number>, key: string, next: number): number {
    const existing = index.get(key);
    if (existing !== undefined) return existing;
    index.set(key, next);
    return next;
  }
}
