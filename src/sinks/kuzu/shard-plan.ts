/**
 * A variant batch as the graph sink writes it: grouped by the shard (graph-schema.ts) of each
 * variant's chromosome, then into windows of one chromosome and a position range, each variant
 * with its key (variant-key.ts), as CSV-ready cells. Every statement of a window filters its
 * shard's table to the window (`v.chrom = $chrom AND v.pos BETWEEN $lo AND $hi`), so Kuzu's hash
 * join builds on the variants there, not on the whole table: its cost and memory follow the batch.
 * Rows of messages the graph already applied (offset below the stored next offset of their
 * partition) are left out; their variants are still looked up, since other rows may refer to them.
 */
import type { VariantBatch } from '../../batching/variant-batch.ts';
import { shardOf } from './graph-schema.ts';
import { variantKey } from './variant-key.ts';

export type Cell = string | number | null;

export interface WindowPlan {
  shard: string;
  chrom: string;
  lo: number;
  hi: number;
  /** Every variant of the window, written or not: [key, id, chrom, pos, ref, alt, rsid, qual]. */
  variants: Cell[][];
  /** Whether variants[i] comes from a message not applied yet (only those are written). */
  unapplied: boolean[];
  /** [variant key, gene] of unapplied messages. */
  genePairs: Cell[][];
  /** [variant key, sample, gt, zygosity, dp, gq] of unapplied messages. */
  calls: Cell[][];
}

/** Windows split where consecutive positions are further apart than this. */
const WINDOW_GAP = 5_000_000;
/** More windows than this in one shard (unsorted input): one window per chromosome instead. */
const MAX_WINDOWS_PER_SHARD = 16;

export function planBatch(
  b: VariantBatch,
  applied: (partition: number, offset: number) => boolean,
): WindowPlan[] {
  const v = b.variants;
  // shard -> chromosome -> variant indexes
  const groups = new Map<string, Map<string, number[]>>();
  for (let i = 0; i < v.length; i++) {
    const chrom = v.chrom[i] as string;
    const shard = shardOf(chrom);
    let byChrom = groups.get(shard);
    if (!byChrom) {
      byChrom = new Map();
      groups.set(shard, byChrom);
    }
    const list = byChrom.get(chrom);
    if (list) list.push(i);
    else byChrom.set(chrom, [i]);
  }
  const windows: WindowPlan[] = [];
  const byId = new Map<string, [string, WindowPlan]>();
  for (const [shard, byChrom] of groups) {
    let runs: Array<[string, number[]]> = [];
    for (const [chrom, list] of byChrom) {
      list.sort((x, y) => (v.pos[x] as number) - (v.pos[y] as number));
      let run: number[] = [];
      for (const i of list) {
        if (run.length > 0 && (v.pos[i] as number) - (v.pos[run.at(-1) as number] as number) > WINDOW_GAP) {
          runs.push([chrom, run]);
          run = [];
        }
        run.push(i);
      }
      runs.push([chrom, run]);
    }
    // Unsorted input would make many tiny windows: one per chromosome then.
    if (runs.length > MAX_WINDOWS_PER_SHARD) runs = [...byChrom].map(([chrom, list]) => [chrom, list]);
    for (const [chrom, run] of runs) {
      const w: WindowPlan = {
        shard,
        chrom,
        lo: v.pos[run[0] as number] as number,
        hi: v.pos[run.at(-1) as number] as number,
        variants: [],
        unapplied: [],
        genePairs: [],
        calls: [],
      };
      for (const i of run) {
        const id = v.variantId[i] as string;
        const key = variantKey(id);
        w.variants.push([
          key,
          id,
          chrom,
          v.pos[i] as number,
          v.ref[i] as string,
          v.alt[i] as string,
          v.rsid[i] ?? null,
          v.qual[i] ?? null,
        ]);
        w.unapplied.push(!applied(v.partition[i] as number, v.offset[i] as number));
        byId.set(id, [key, w]);
      }
      windows.push(w);
    }
  }
  for (let i = 0; i < b.geneVariant.length; i++) {
    if (applied(b.genePartition[i] as number, b.geneOffset[i] as number)) continue;
    const [key, w] = byId.get(b.geneVariant[i] as string) as [string, WindowPlan];
    w.genePairs.push([key, b.geneSymbol[i] as string]);
  }
  const c = b.calls;
  for (let i = 0; i < c.length; i++) {
    if (applied(c.partition[i] as number, c.offset[i] as number)) continue;
    const [key, w] = byId.get(c.variantId[i] as string) as [string, WindowPlan];
    w.calls.push([
      key,
      c.sample[i] as string,
      c.gt[i] as string,
      c.zygosity[i] as string,
      c.dp[i] ?? null,
      c.gq[i] ?? null,
    ]);
  }
  return windows;
}
