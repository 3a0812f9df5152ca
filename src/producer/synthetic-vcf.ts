/**
 * A deterministic synthetic multi-sample VCF v4.2, for demos and benchmarks when no
 * real VCF is given. Same options (seed included) → byte-identical output.
 *
 * Realism, within reason: eight GRCh38 contigs with their real lengths; each contig
 * is cut into one slot per gene of a fixed list of real symbols located on that
 * chromosome, the gene spanning the first 70% of its slot (coordinates are synthetic,
 * the chromosome membership is real). Mostly SNVs, some indels, ~5% multi-allelic,
 * a few `*` and `<DEL>` alleles; genotypes drawn Hardy-Weinberg-style from a skewed
 * allele frequency, ~2% missing, ~30% of records phased, odd-numbered samples haploid
 * on chrX; DP/GQ per sample; SnpEff-style `ANN` (intergenic records name the flanking
 * pair, as SnpEff does) and occasional ClinVar-style `GENEINFO`.
 *
 * Long file: a self-contained generator (sites, alleles, genes, genotypes) whose output must stay
 * byte-identical per seed.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mulberry32 } from './prng.ts';

export interface SyntheticVcfOptions {
  /** Data records (default 20,000). */
  records?: number;
  /** Sample columns (default 50), named SYN0001, SYN0002, ... */
  samples?: number;
  /** PRNG seed (default 1). */
  seed?: number;
}

export interface SyntheticVcfResult {
  records: number;
  samples: number;
  bytes: number;
}

function words(s: string): string[] {
  return s.split(/\s+/).filter((w) => w.length > 0);
}

/** `contig length gene gene ...`: real GRCh38 lengths, real symbols of genes on that chromosome. */
const CONTIG_TABLE = `
chr1 248956422 TP73 CHD5 KIF1B PIK3CD MTHFR MTOR SDHB PAX7 ARID1A RUNX3 SPEN CASP9 NRAS NOTCH2 MUTYH
  LMNA MPL JAK1 FH CDC73 PARP1 TGFB2 USH2A F5 DPYD GBA1 ABCA4 AGL MYOC LEPR
chr2 242193529 MYCN APOB POMC DNMT3A ALK CYP1B1 EPCAM MSH2 MSH6 REL XPO1 SPAST LRP2 SCN2A SCN1A TTN
  NEB NFE2L2 COL3A1 PMS1 SF3B1 CASP8 IDH1 ERBB4 BARD1
chr7 159345973 CARD11 PMS2 RAC1 ETV1 TWIST1 HOXA9 IKZF1 EGFR AUTS2 ELN CUX1 CDK6 CAV1 MET CFTR POT1
  SMO BRAF KEL EZH2 KMT2C SHH NOS3 KCNH2 GLI3
chr11 135086622 HRAS INS TH HBB HBD MYBPC3 EXT2 WT1 PAX6 SF1 MEN1 DDB1 NUMA1 CCND1 FAT3 MRE11 BIRC3
  ATM TYR SDHD APOA1 KMT2A CBL LRP5 SLC22A6
chr12 133275309 FGF23 CCND2 KCNA1 ETV6 KRAS PKP2 LRRK2 ARID2 VDR ATF7IP KMT2D ERBB3 STAT6 CDK4 GLI1
  MDM2 PAH TBX5 TBX3 PTPN11 HNF1A SCN8A BCL7A POLE CHD4
chr13 114364328 GJB2 GJB6 LATS2 CDX2 FLT3 FLT1 BRCA2 ZMYM2 CDK8 ARL11 ELF1 FOXO1 RB1 ATP7B KLF5 SPRY2
  PCCA ABCC4 ERCC5 LIG4 IRS2 COL4A1 COL4A2 F7 F10
chr17 83257441 TP53 MAP2K4 FLCN PIK3R5 KCNJ2 NCOR1 NF1 SUZ12 ERBB2 CDK12 RARA TOP2A STAT5B STAT3 BRCA1
  GRN MAPT HOXB13 COL1A1 RNF43 PPM1D BRIP1 CLTC AXIN2 SOX9 PRKAR1A SRSF2 CD79B CANT1 ASPSCR1
chrX 156040895 KDM5C DMD OTC CASK DDX3X KDM6A ZRSR2 BCOR ATRX AR MED12 PHF6 STAG2 SMC1A WAS FOXP3
  IL2RG PLP1 BTK GLA HPRT1 FMR1 AMER1 MECP2 ABCD1 G6PD F8 F9`;

export interface SyntheticContig {
  chrom: string;
  length: number;
  genes: string[];
}

function parseContigTable(table: string): SyntheticContig[] {
  const contigs: SyntheticContig[] = [];
  const tokens = words(table);
  for (let i = 0; i < tokens.length; i++) {
    const word = tokens[i] ?? '';
    if (word.startsWith('chr')) contigs.push({ chrom: word, length: Number(tokens[++i]), genes: [] });
    else contigs.at(-1)?.genes.push(word);
  }
  return contigs;
}

/** The contigs and gene lists the generator draws from (213 genes on 8 contigs). */
export const SYNTHETIC_CONTIGS: readonly SyntheticContig[] = parseContigTable(CONTIG_TABLE);

/** NCBI Gene IDs for a subset of the genes, used in occasional GENEINFO fields. */
const GENE_IDS: ReadonlyMap<string, string> = new Map(
  words(
    'TP53:7157 BRCA1:672 BRCA2:675 EGFR:1956 KRAS:3845 BRAF:673 ATM:472 CFTR:1080 NF1:4763 RB1:5925 ERBB2:2064 ' +
      'MET:4233 ALK:238 MSH2:4436 MSH6:2956 HRAS:3265 NRAS:4893 DMD:1756 AR:367 MTHFR:4524 PMS2:5395 CDK4:1019 ' +
      'MDM2:4193 FLT3:2322 IDH1:3417 G6PD:2539 F8:2157 F9:2158 HBB:3043 PAH:5053 GJB2:2706 LMNA:4000 MUTYH:4595 ' +
      'PTPN11:5781',
  ).map((pair) => pair.split(':') as [string, string]),
);

const BASES = ['A', 'C', 'G', 'T'];
const GENE_FRACTION = 0.7;

type Rng = () => number;
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T;
const randInt = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const otherBases = (...not: string[]) => BASES.filter((b) => !not.includes(b));
const seq = (rng: Rng, n: number) => Array.from({ length: n }, () => pick(rng, BASES)).join('');

export function syntheticSampleNames(n: number): string[] {
  const width = Math.max(4, String(n).length);
  return Array.from({ length: n }, (_, i) => `SYN${String(i + 1).padStart(width, '0')}`);
}

function headerLines(samples: string[], seed: number): string[] {
  const ann =
    "Functional annotations: 'Allele | Annotation | Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | Feature_ID | Transcript_BioType | Rank | HGVS.c | HGVS.p | cDNA.pos / cDNA.length | CDS.pos / CDS.length | AA.pos / AA.length | Distance | ERRORS / WARNINGS / INFO'";
  return [
    '##fileformat=VCFv4.2',
    `##source=varstream-synthetic-vcf (seed=${seed})`,
    '##reference=GRCh38 (synthetic coordinates)',
    ...SYNTHETIC_CONTIGS.map((c) => `##contig=<ID=${c.chrom},length=${c.length},assembly=GRCh38>`),
    '##FILTER=<ID=PASS,Description="All filters passed">',
    '##FILTER=<ID=LowQual,Description="Low quality">',
    '##FILTER=<ID=SnpCluster,Description="SNPs found in clusters">',
    '##ALT=<ID=DEL,Description="Deletion">',
    '##INFO=<ID=AC,Number=A,Type=Integer,Description="Allele count in genotypes">',
    '##INFO=<ID=AN,Number=1,Type=Integer,Description="Total number of alleles in called genotypes">',
    '##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">',
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="Combined depth across samples">',
    '##INFO=<ID=DB,Number=0,Type=Flag,Description="dbSNP membership">',
    '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="Type of structural variant">',
    '##INFO=<ID=END,Number=1,Type=Integer,Description="End position of the variant">',
    '##INFO=<ID=SVLEN,Number=.,Type=Integer,Description="Difference in length between REF and ALT alleles">',
    `##INFO=<ID=ANN,Number=.,Type=String,Description="${ann}">`,
    '##INFO=<ID=GENEINFO,Number=1,Type=String,Description="Gene(s) for the variant reported as gene symbol:gene id">',
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
    '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">',
    `#${words('CHROM POS ID REF ALT QUAL FILTER INFO').join('\t')}${samples.length ? '\tFORMAT\t' : ''}${samples.join('\t')}`,
  ];
}

interface Alleles {
  ref: string;
  alts: string[];
  svLen?: number;
}

function chooseAlleles(rng: Rng): Alleles {
  const u = rng();
  if (u < 0.003) {
    const len = randInt(rng, 300, 20000);
    return { ref: pick(rng, BASES), alts: ['<DEL>'], svLen: len };
  }
  const anchor = pick(rng, BASES);
  let ref = anchor;
  let alt = pick(rng, otherBases(anchor));
  if (u < 0.1) ref = anchor + seq(rng, randInt(rng, 1, 10));
  else if (u < 0.18) alt = anchor + seq(rng, randInt(rng, 1, 10));
  const alts = [alt];
  if (rng() < 0.05) {
    alts.push(rng() < 0.1 ? '*' : pick(rng, otherBases(anchor, alt)));
  }
  return { ref, alts };
}

/** Allele frequencies per ALT: mostly rare, a few common; they sum to < 1. */
function alleleFrequencies(rng: Rng, k: number): number[] {
  const total = 0.005 + 0.6 * rng() ** 3;
  if (k === 1) return [total];
  const first = total * (0.5 + 0.5 * rng());
  return [first, ...Array.from({ length: k - 1 }, () => (total - first) / (k - 1))];
}

function drawAllele(rng: Rng, afs: number[]): number {
  let u = rng();
  for (let i = 0; i < afs.length; i++) {
    u -= afs[i] ?? 0;
    if (u < 0) return i + 1;
  }
  return 0;
}

interface Genotypes {
  columns: string[];
  ac: number[];
  an: number;
  dp: number;
}

function sampleColumn(rng: Rng, alleles: number[], phased: boolean): { col: string; dp: number } {
  const dp = Math.max(0, Math.round(30 + 8 * (rng() + rng() + rng() - 1.5) * 2));
  const sorted = phased ? alleles : [...alleles].sort((a, b) => a - b);
  const gt = sorted.join(phased ? '|' : '/');
  const het = alleles.length === 2 && alleles[0] !== alleles[1];
  const gq = Math.min(99, Math.round((het ? 15 : 30) + rng() * dp * 2.5));
  return { col: `${gt}:${dp}:${gq}`, dp };
}

function genotypes(rng: Rng, samples: number, afs: number[], chrom: string): Genotypes {
  const phased = rng() < 0.3;
  const ac = afs.map(() => 0);
  let an = 0;
  let dpTotal = 0;
  const columns: string[] = [];
  for (let s = 0; s < samples; s++) {
    const ploidy = chrom === 'chrX' && s % 2 === 1 ? 1 : 2;
    if (rng() < 0.02) {
      const gt = ploidy === 1 ? '.' : phased ? '.|.' : './.';
      columns.push(`${gt}:${rng() < 0.5 ? '.' : randInt(rng, 0, 3)}:.`);
      continue;
    }
    const alleles = Array.from({ length: ploidy }, () => drawAllele(rng, afs));
    for (const a of alleles) if (a > 0) ac[a - 1] = (ac[a - 1] ?? 0) + 1;
    an += ploidy;
    const { col, dp } = sampleColumn(rng, alleles, phased);
    columns.push(col);
    dpTotal += dp;
  }
  return { columns, ac, an, dp: dpTotal };
}

interface Locus {
  chrom: string;
  pos: number;
  /** Index of the gene slot the position falls in. */
  slot: number;
  genic: boolean;
  genes: readonly string[];
}

const SNV_EFFECTS: readonly (readonly [string, string])[] = [
  ['missense_variant', 'MODERATE'],
  ['synonymous_variant', 'LOW'],
  ['intron_variant', 'MODIFIER'],
  ['intron_variant', 'MODIFIER'],
  ['3_prime_UTR_variant', 'MODIFIER'],
  ['stop_gained', 'HIGH'],
  ['splice_region_variant&intron_variant', 'LOW'],
];
const INDEL_EFFECTS: readonly (readonly [string, string])[] = [
  ['frameshift_variant', 'HIGH'],
  ['inframe_deletion', 'MODERATE'],
  ['intron_variant', 'MODIFIER'],
];

function annEntry(rng: Rng, alt: string, ref: string, gene: string): string {
  const isSnv = ref.length === 1 && alt.length === 1;
  const [effect, impact] =
    alt === '<DEL>' ? ['exon_loss_variant', 'HIGH'] : pick(rng, isSnv ? SNV_EFFECTS : INDEL_EFFECTS);
  const cpos = randInt(rng, 1, 4000);
  const hgvs = isSnv ? `c.${cpos}${ref}>${alt}` : `c.${cpos}del`;
  const rank = `${randInt(rng, 1, 20)}/${randInt(rng, 20, 40)}`;
  const fields = [alt, effect, impact, gene, gene, 'transcript', `TX_${gene}.1`, 'protein_coding', rank];
  return [...fields, hgvs, '', '', '', '', '', ''].join('|');
}

function intergenicEntry(alt: string, locus: Locus): string {
  const left = locus.genes[locus.slot] ?? 'CHR_START';
  const right = locus.genes[locus.slot + 1] ?? 'CHR_END';
  const pair = `${left}-${right}`;
  const fields = [alt, 'intergenic_region', 'MODIFIER', pair, pair, 'intergenic_region', pair, '', ''];
  return [...fields, `n.${locus.pos}`, '', '', '', '', '', ''].join('|');
}

function annotation(rng: Rng, alleles: Alleles, locus: Locus): string[] {
  const entries: string[] = [];
  const gene = locus.genes[locus.slot] ?? '';
  for (const alt of alleles.alts) {
    if (alt === '*') continue; // SnpEff does not annotate the spanning-deletion allele
    if (!locus.genic) entries.push(intergenicEntry(alt, locus));
    else entries.push(annEntry(rng, alt, alleles.ref, gene));
    const next = locus.genes[locus.slot + 1];
    if (locus.genic && next && rng() < 0.05) {
      const fields = [alt, 'upstream_gene_variant', 'MODIFIER', next, next, 'transcript', `TX_${next}.1`];
      entries.push([...fields, 'protein_coding', '', '', '', '', '', '', '', ''].join('|'));
    }
  }
  return entries;
}

function infoField(
  rng: Rng,
  alleles: Alleles,
  afs: number[],
  g: Genotypes | undefined,
  locus: Locus,
  id: string,
) {
  const parts: string[] = [];
  if (g) {
    parts.push(`AC=${g.ac.join(',')}`, `AN=${g.an}`);
    parts.push(`AF=${g.an > 0 ? g.ac.map((c) => +(c / g.an).toPrecision(4)).join(',') : '.'}`, `DP=${g.dp}`);
  } else {
    parts.push(`AF=${afs.map((f) => +f.toPrecision(4)).join(',')}`);
  }
  if (id !== '.') parts.push('DB');
  if (alleles.svLen !== undefined) {
    parts.push('SVTYPE=DEL', `END=${locus.pos + alleles.svLen}`, `SVLEN=-${alleles.svLen}`);
  }
  const ann = annotation(rng, alleles, locus);
  if (ann.length > 0) parts.push(`ANN=${ann.join(',')}`);
  const gene = locus.genes[locus.slot] ?? '';
  const geneId = GENE_IDS.get(gene);
  if (locus.genic && geneId && rng() < 0.3) parts.push(`GENEINFO=${gene}:${geneId}`);
  return parts.join(';');
}

function recordLine(rng: Rng, locus: Locus, samples: number): string {
  const alleles = chooseAlleles(rng);
  const afs = alleleFrequencies(rng, alleles.alts.length);
  const g = samples > 0 ? genotypes(rng, samples, afs, locus.chrom) : undefined;
  const id = rng() < 0.2 ? `rs${randInt(rng, 1_000_000, 1_999_999_999)}` : '.';
  const qual = rng() < 0.02 ? '.' : (20 + rng() * 5000).toFixed(2);
  const filter = rng() < 0.9 ? 'PASS' : rng() < 0.7 ? 'LowQual' : 'LowQual;SnpCluster';
  const info = infoField(rng, alleles, afs, g, locus, id);
  const fixed = [locus.chrom, locus.pos, id, alleles.ref, alleles.alts.join(','), qual, filter, info];
  return (g ? [...fixed, 'GT:DP:GQ', ...g.columns] : fixed).join('\t');
}

/** Records per contig, proportional to its number of genes; they sum to `records`. */
function recordsPerContig(records: number): number[] {
  const totalGenes = SYNTHETIC_CONTIGS.reduce((n, c) => n + c.genes.length, 0);
  const counts = SYNTHETIC_CONTIGS.map((c) => Math.floor((records * c.genes.length) / totalGenes));
  let left = records - counts.reduce((a, b) => a + b, 0);
  for (let i = 0; left > 0; i = (i + 1) % counts.length, left--) counts[i] = (counts[i] ?? 0) + 1;
  return counts;
}

/** Increasing positions over one contig, one per equal-width bucket. */
function* loci(rng: Rng, contig: SyntheticContig, n: number): Generator<Locus> {
  const bucket = (contig.length - 25_000) / Math.max(1, n);
  const slotLen = contig.length / contig.genes.length;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const pos = Math.max(prev + 1, 1 + Math.floor((i + rng()) * bucket));
    prev = pos;
    const slot = Math.min(contig.genes.length - 1, Math.floor((pos - 1) / slotLen));
    const genic = pos - 1 - slot * slotLen < GENE_FRACTION * slotLen;
    yield { chrom: contig.chrom, pos, slot, genic, genes: contig.genes };
  }
}

/** The VCF as lines (no line terminators): header lines, then `records` data lines. */
export function* syntheticVcfLines(opts: SyntheticVcfOptions = {}): Generator<string> {
  const records = opts.records ?? 20_000;
  const samples = opts.samples ?? 50;
  const seed = opts.seed ?? 1;
  if (!Number.isInteger(records) || records < 0 || !Number.isInteger(samples) || samples < 0) {
    throw new RangeError('records and samples must be non-negative integers');
  }
  const rng = mulberry32(seed);
  const header = headerLines(syntheticSampleNames(samples), seed);
  yield* header;
  const counts = recordsPerContig(records);
  for (const [i, contig] of SYNTHETIC_CONTIGS.entries()) {
    for (const locus of loci(rng, contig, counts[i] ?? 0)) yield recordLine(rng, locus, samples);
  }
}

/** Writes the synthetic VCF as plain text to `path`, honouring stream backpressure. */
export async function writeSyntheticVcf(
  path: string,
  opts: SyntheticVcfOptions = {},
): Promise<SyntheticVcfResult> {
  const out = createWriteStream(path);
  const failed = once(out, 'error').then(([err]) => Promise.reject(err));
  failed.catch(() => {});
  let buffer = '';
  let records = 0;
  for (const line of syntheticVcfLines(opts)) {
    if (line.charCodeAt(0) !== 35 /* # */) records++;
    buffer += `${line}\n`;
    if (buffer.length >= 1 << 16) {
      if (!out.write(buffer)) await Promise.race([once(out, 'drain'), failed]);
      buffer = '';
    }
  }
  out.end(buffer);
  await Promise.race([once(out, 'finish'), failed]);
  return { records, samples: opts.samples ?? 50, bytes: out.bytesWritten };
}
