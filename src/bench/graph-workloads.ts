/**
 * The generated workloads of bench:graph, shaped like real data. Seeded, so every run (and the bulk
 * COPY ceiling of the same run) sees the same variants. Shapes measured on the real VCFs:
 * - zygosity of a call: 62% HET, 38% HOM (the GIAB trio, fixtures/vcf/giab_ashk_trio: 0/1 vs 1/1);
 * - carriers among a trio: 1 of 3 for 20% of sites, 2 for 34%, 3 for 46% (the same file);
 * - carriers in a cohort: most sites rare, a few common (1000 Genomes chr1 slice, 2,504 samples:
 *   78% of sites under 1% carriers, 5% over half), scaled here to ~10% carriers per site;
 * - 11% indels (the GIAB trio), 2% multi-allelic sites, 90% with an rsid;
 * - genes: 20,000 symbols laid along the genome, about half the variants inside one (a tenth of
 *   those in two overlapping ones), as for a whole genome's intronic and exonic variants;
 * - positions spread over GRCh38's primary chromosomes in proportion to their length, in genome order.
 */

import type { DecodedVariantMessage, SampleCall } from '../contract/variant-decoder.ts';
import { VARIANT_CONTENT_TYPE } from '../contract/variant-message.ts';
import type { OutgoingMessage } from '../core/publisher.ts';
import { mulberry32 } from '../producer/prng.ts';

export const WORKLOADS = {
  /** One clinical whole genome. */
  genome: { variants: 5_000_000, samples: 1 },
  /** A trio. */
  family: { variants: 2_000_000, samples: 3 },
  /** A cohort chunk: 100 samples, ~10% carriers per site. */
  cohort: { variants: 1_000_000, samples: 100 },
} as const;
export type WorkloadName = keyof typeof WORKLOADS;

/** GRCh38 primary chromosome lengths, Mb. */
const CHROMOSOMES: ReadonlyArray<readonly [string, number]> = [
  ['chr1', 248.96],
  ['chr2', 242.19],
  ['chr3', 198.3],
  ['chr4', 190.21],
  ['chr5', 181.54],
  ['chr6', 170.81],
  ['chr7', 159.35],
  ['chr8', 145.14],
  ['chr9', 138.39],
  ['chr10', 133.8],
  ['chr11', 135.09],
  ['chr12', 133.28],
  ['chr13', 114.36],
  ['chr14', 107.04],
  ['chr15', 101.99],
  ['chr16', 90.34],
  ['chr17', 83.26],
  ['chr18', 80.37],
  ['chr19', 58.62],
  ['chr20', 64.44],
  ['chr21', 46.71],
  ['chr22', 50.82],
  ['chrX', 156.04],
  ['chrY', 57.23],
];
const GENOME_MB = CHROMOSOMES.reduce((sum, [, mb]) => sum + mb, 0);
export const GENE_SYMBOLS = 20_000;
const BASES = ['A', 'C', 'G', 'T'] as const;

export interface Workload {
  name: WorkloadName;
  variants: number;
  samples: string[];
}

export function workload(name: WorkloadName, scale = 1): Workload {
  const w = WORKLOADS[name];
  const samples =
    w.samples === 1
      ? ['HG002']
      : w.samples === 3
        ? ['HG002', 'HG003', 'HG004']
        : Array.from({ length: w.samples }, (_, i) => `COHORT${String(i + 1).padStart(4, '0')}`);
  return { name, variants: Math.max(1, Math.round(w.variants * scale)), samples };
}

/** The workload as messages, in genome order, until `variants` variant rows have been made. */
export function* workloadMessages(w: Workload, seed = 21): Generator<DecodedVariantMessage> {
  const random = mulberry32(seed);
  // Mean spacing so that `variants` rows span the genome (a multi-allelic site makes two rows).
  const spacing = (GENOME_MB * 1e6) / (w.variants / 1.02);
  let made = 0;
  let chromIndex = 0;
  let pos = 10_000;
  while (made < w.variants) {
    pos += 1 + Math.floor(random() * 2 * spacing);
    let [chrom, mb] = CHROMOSOMES[chromIndex] as readonly [string, number];
    if (pos > mb * 1e6 && chromIndex < CHROMOSOMES.length - 1) {
      chromIndex++;
      [chrom] = CHROMOSOMES[chromIndex] as readonly [string, number];
      pos = 10_000 + Math.floor(random() * spacing);
    }
    const genes = genesAt(chromIndex, pos, random);
    const ref = random() < 0.11 ? randomBases(random, 2 + Math.floor(random() * 6)) : pick(BASES, random);
    const altCount = random() < 0.02 ? 2 : 1;
    const alts: string[] = [];
    while (alts.length < altCount) {
      const alt = ref.length > 1 ? (ref[0] as string) : pick(BASES, random);
      if (alt !== ref && !alts.includes(alt)) alts.push(alt);
      else if (ref.length === 1) continue;
      else alts.push(`${ref[0]}${randomBases(random, alts.length + 1)}`);
    }
    const rsid = random() < 0.9 ? `rs${Math.floor(random() * 1e9)}` : null;
    const qual = Math.round((30 + random() * random() * 2000) * 10) / 10;
    const variants = alts.map((alt) => ({
      variantId: `${chrom}-${pos}-${ref}-${alt}`,
      chrom,
      pos,
      ref,
      alt,
      rsid,
      qual,
      filter: ['PASS'],
      genes,
      info: '{}',
      sampleCount: 0,
      source: w.name,
    }));
    const calls: SampleCall[] = [];
    for (const [i, v] of variants.entries()) {
      for (const sample of carriersOf(w.samples, random)) {
        const hom = random() < 0.38;
        const gt = altCount === 1 ? (hom ? '1/1' : '0/1') : i === 0 ? '0/1' : '1/2';
        calls.push({
          sample,
          variantId: v.variantId,
          gt,
          zygosity: hom && altCount === 1 ? 'HOM' : 'HET',
          dp: 10 + Math.floor(random() * 50),
          gq: Math.floor(random() * 99),
        });
      }
      v.sampleCount = calls.filter((c) => c.variantId === v.variantId).length;
    }
    made += variants.length;
    yield { variants, samples: w.samples, calls };
  }
}

/** Genes are laid end to end at one per GENOME_MB * 1e6 / GENE_SYMBOLS bases; half a gene's span holds it. */
function genesAt(chromIndex: number, pos: number, random: () => number): string[] {
  const before = CHROMOSOMES.slice(0, chromIndex).reduce((sum, [, mb]) => sum + mb, 0);
  const at = ((before * 1e6 + pos) / (GENOME_MB * 1e6)) * GENE_SYMBOLS;
  const gene = Math.floor(at);
  if (at - gene > 0.5) return [];
  const symbol = geneSymbol(gene);
  return random() < 0.1 ? [symbol, geneSymbol((gene + 1) % GENE_SYMBOLS)] : [symbol];
}

export function geneSymbol(i: number): string {
  return `GENE${String(i + 1).padStart(5, '0')}`;
}

function carriersOf(samples: readonly string[], random: () => number): string[] {
  if (samples.length === 1) return [samples[0] as string];
  if (samples.length === 3) {
    const r = random();
    const n = r < 0.2 ? 1 : r < 0.54 ? 2 : 3;
    return shuffled(samples, random).slice(0, n);
  }
  // Rare, low-frequency, common, very common: ~11% carriers on average.
  const r = random();
  const frac =
    r < 0.6
      ? 0.01 + random() * 0.01
      : r < 0.8
        ? 0.03 + random() * 0.07
        : r < 0.92
          ? 0.1 + random() * 0.4
          : 0.5 + random() * 0.4;
  const n = Math.max(1, Math.round(frac * samples.length));
  return shuffled(samples, random).slice(0, n);
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)] as T;
}

function randomBases(random: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += pick(BASES, random);
  return s;
}

/**
 * The workload as Kafka messages of the variant contract (JSON, one per site, keyed by site), for
 * `npm run bench`'s end-to-end `genome` and `cohort` scenarios. Every sample of the workload is
 * named in each message; a sample carrying none of the site's alleles has GT `0/0`.
 */
export function* workloadKafkaMessages(w: Workload, seed = 21): Generator<OutgoingMessage> {
  const headers = { 'content-type': VARIANT_CONTENT_TYPE };
  for (const m of workloadMessages(w, seed)) {
    const first = m.variants[0];
    if (!first) continue;
    const samples: Record<string, { GT: string; DP: number | null; GQ: number | null }> = {};
    for (const s of w.samples) samples[s] = { GT: '0/0', DP: null, GQ: null };
    for (const c of m.calls) samples[c.sample] = { GT: c.gt, DP: c.dp, GQ: c.gq };
    const body = {
      chrom: first.chrom,
      pos: first.pos,
      ref: first.ref,
      alt: m.variants.map((v) => v.alt),
      id: first.rsid,
      qual: first.qual,
      filter: first.filter,
      genes: first.genes,
      samples,
      source: w.name,
    };
    yield { key: `${first.chrom}-${first.pos}-${first.ref}`, value: JSON.stringify(body), headers };
  }
}
