/**
 * A variant batch as the graph sink writes it: its rows grouped by the shard (graph-schema.ts)
 * of their chromosome, each variant with its key (variant-key.ts), as CSV-ready cells.
 */
import type { VariantBatch } from '../../batching/variant-batch.ts';
import { shardOf } from './graph-schema.ts';
import { variantKey } from './variant-key.ts';

type Cell = string | number | null;

export interface ShardPlan {
  shard: string;
  /** [key, id, chrom, pos, ref, alt, rsid, qual] */
  variants: Cell[][];
  /** [variant key, gene] */
  genePairs: Cell[][];
  /** [variant key, sample, gt, zygosity, dp, gq] */
  calls: Cell[][];
}

export function planBatch(b: VariantBatch): ShardPlan[] {
  const shards = new Map<string, ShardPlan>();
  /** variant id -> [key, its shard's plan] */
  const byId = new Map<string, [string, ShardPlan]>();
  const v = b.variants;
  for (let i = 0; i < v.length; i++) {
    const id = v.variantId[i] as string;
    const chrom = v.chrom[i] as string;
    const name = shardOf(chrom);
    let plan = shards.get(name);
    if (!plan) {
      plan = { shard: name, variants: [], genePairs: [], calls: [] };
      shards.set(name, plan);
    }
    const key = variantKey(id);
    byId.set(id, [key, plan]);
    plan.variants.push([
      key,
      id,
      chrom,
      v.pos[i] as number,
      v.ref[i] as string,
      v.alt[i] as string,
      v.rsid[i] ?? null,
      v.qual[i] ?? null,
    ]);
  }
  for (let i = 0; i < b.geneVariant.length; i++) {
    const [key, plan] = byId.get(b.geneVariant[i] as string) as [string, ShardPlan];
    plan.genePairs.push([key, b.geneSymbol[i] as string]);
  }
  const c = b.calls;
  for (let i = 0; i < c.length; i++) {
    const [key, plan] = byId.get(c.variantId[i] as string) as [string, ShardPlan];
    plan.calls.push([
      key,
      c.sample[i] as string,
      c.gt[i] as string,
      c.zygosity[i] as string,
      c.dp[i] ?? null,
      c.gq[i] ?? null,
    ]);
  }
  return [...shards.values()];
}
