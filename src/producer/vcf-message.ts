/**
 * Maps one parsed VCF record to the v1 variant message (ARCHITECTURE.md section 3).
 *
 * Choices:
 * - `id`: the ID column as written (`rs1;rs2` stays one string); `.` → null.
 *   `qual`: `.` → null. `alt`: always an array; `.` → [].
 * - `filter`: always an array of names as written, `PASS` kept; `.` (no filters
 *   applied) → [].
 * - `info`: flags → true; a field the header (or the VCF spec) declares Number=1
 *   is unwrapped to its single value; everything else stays an array. A missing
 *   value `.` becomes null; a header-numeric value that is not a number (`38C`,
 *   `NaN`) keeps its text, so the object survives JSON.stringify unchanged. Keys
 *   not in the header stay arrays of strings. Annotation fields are kept whole.
 * - `info_per_allele`: the INFO keys of the record the header declares Number=A or R, when their
 *   value has one item per ALT (A) or REF and one per ALT (R); the consumer splits them per row.
 * - `genes`: resolved with the header's help (GENE_SPECS). Omitted when the record
 *   has no annotation field at all (the consumer's derivation finds nothing either);
 *   `[]` when one is present but names no gene (e.g. intergenic): "resolved, none".
 * - `samples`: one entry per sample column with only GT (string as written), DP and
 *   GQ. A key is present only when the record's FORMAT declares it; DP/GQ are null
 *   when the sample's value is `.` or absent. Sites-only VCFs (or a record without
 *   FORMAT) have no `samples`. Values are read as ranges of the line
 *   (processFormatFields / processGenotypes), never through @gmod/vcf's SAMPLES(),
 *   which allocates an object plus an array per FORMAT key per sample. GT-only
 *   sample objects are shared and frozen: treat messages as read-only.
 */
import type { InfoValue, MetaField } from '@gmod/vcf';
import { siteKey, type VariantMessageV1, type VariantSampleV1 } from '../contract/variant-message.ts';
import { type GeneField, geneFieldsForHeader, infoMetadata, resolveGenes } from './vcf-genes.ts';
import type { VcfHeader, VcfRecord } from './vcf-reader.ts';

// ---------------------------------------------------------------- info

/** The raw comma-separated items of INFO `key` in a data line (last occurrence wins, as in @gmod/vcf). */
function rawInfoItems(line: string, key: string): string[] {
  let start = 0;
  for (let col = 0; col < 7; col++) {
    const tab = line.indexOf('\t', start);
    if (tab === -1) return [];
    start = tab + 1;
  }
  const end = line.indexOf('\t', start);
  let items: string[] = [];
  for (const pair of line.slice(start, end === -1 ? line.length : end).split(';')) {
    if (pair.length > key.length && pair.startsWith(key) && pair.charCodeAt(key.length) === 61 /* = */) {
      items = pair.slice(key.length + 1).split(',');
    }
  }
  return items;
}

const isBadNumber = (v: unknown) => typeof v === 'number' && !Number.isFinite(v);

/**
 * A JSON-faithful copy of a parsed value list: `.` (undefined) becomes null; a value
 * the header types as a number but which is not one (`BND_DEPTH=38C`, `AF=NaN` in the
 * real data; @gmod/vcf yields NaN) is kept as its original text.
 */
function cleanValues(values: (string | number | undefined)[], line: string, key: string): unknown[] {
  if (!values.some((v) => v === undefined || isBadNumber(v))) return values;
  const raw = values.some(isBadNumber) ? rawInfoItems(line, key) : [];
  return values.map((v, i) => (v === undefined ? null : isBadNumber(v) ? (raw[i] ?? null) : v));
}

/** INFO as JSON-safe values; flags → true, Number=1 fields (per `unwrap`) unwrapped. */
export function mapInfo(
  info: Record<string, InfoValue>,
  unwrap: ReadonlySet<string>,
  line = '',
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(info)) {
    const value = info[key];
    if (value === undefined) continue;
    if (value === true) {
      out[key] = true;
      continue;
    }
    const clean = cleanValues(value, line, key);
    out[key] = clean.length === 1 && unwrap.has(key) ? clean[0] : clean;
  }
  return out;
}

// ---------------------------------------------------------------- samples

const SAMPLE_KEYS = ['GT', 'DP', 'GQ'];
const HAS_GT = 1;
const HAS_DP = 2;
const HAS_GQ = 4;

/** Which of GT/DP/GQ a FORMAT string declares, as a bit mask. */
function formatMask(format: string): number {
  let mask = 0;
  for (const key of format.split(':')) {
    if (key === 'GT') mask |= HAS_GT;
    else if (key === 'DP') mask |= HAS_DP;
    else if (key === 'GQ') mask |= HAS_GQ;
  }
  return mask;
}

/** Number in s[start, end); null for `.`, empty, absent (-1) or unparseable. */
function numberAt(s: string, start: number, end: number): number | null {
  if (start < 0 || end <= start) return null;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) {
      const parsed = Number(s.slice(start, end));
      return Number.isFinite(parsed) ? parsed : null;
    }
    n = n * 10 + c;
  }
  return n;
}

/**
 * When FORMAT has GT but neither DP nor GQ (1000 Genomes files), samples with the
 * same GT share one frozen `{ GT }` object: 2504 `0|0` calls are one object, not
 * 2504. Common diploid calls are found without slicing the line.
 */
const diploidGt: (VariantSampleV1 | undefined)[] = [];
const otherGt = new Map<string, VariantSampleV1>();
const MISSING_GT: VariantSampleV1 = Object.freeze({ GT: '.' });

function gtOnlySample(s: string, a: number, b: number): VariantSampleV1 {
  if (a < 0 || b <= a) return MISSING_GT;
  if (b - a === 3) {
    const d0 = s.charCodeAt(a) - 48;
    const sep = s.charCodeAt(a + 1);
    const d1 = s.charCodeAt(a + 2) - 48;
    if (d0 >= 0 && d0 <= 9 && d1 >= 0 && d1 <= 9 && (sep === 47 || sep === 124)) {
      const idx = d0 * 20 + d1 * 2 + (sep === 124 ? 1 : 0);
      let sample = diploidGt[idx];
      if (!sample) {
        sample = Object.freeze({ GT: s.slice(a, b) });
        diploidGt[idx] = sample;
      }
      return sample;
    }
  }
  const gt = s.slice(a, b);
  let sample = otherGt.get(gt);
  if (!sample) {
    sample = Object.freeze({ GT: gt });
    if (otherGt.size < 4096) otherGt.set(gt, sample);
  }
  return sample;
}

function mapSamples(
  record: VcfRecord,
  masks: Map<string, number>,
): Record<string, VariantSampleV1> | undefined {
  const names = record.sampleNames;
  const format = record.FORMAT;
  if (names.length === 0 || !format) return undefined;
  let mask = masks.get(format);
  if (mask === undefined) {
    mask = formatMask(format);
    masks.set(format, mask);
  }
  const out: Record<string, VariantSampleV1> = {};
  const m = mask;
  if (m === HAS_GT) {
    record.processGenotypes((s, a, b, i) => {
      out[names[i] ?? String(i)] = gtOnlySample(s, a, b);
    });
    return out;
  }
  record.processFormatFields(SAMPLE_KEYS, (s, r, i) => {
    const sample: VariantSampleV1 = {};
    const gtStart = r[0] ?? -1;
    const gtEnd = r[1] ?? -1;
    if (m & HAS_GT) sample.GT = gtStart >= 0 && gtEnd > gtStart ? s.slice(gtStart, gtEnd) : '.';
    if (m & HAS_DP) sample.DP = numberAt(s, r[2] ?? -1, r[3] ?? -1);
    if (m & HAS_GQ) sample.GQ = numberAt(s, r[4] ?? -1, r[5] ?? -1);
    out[names[i] ?? String(i)] = sample;
  });
  // FORMAT without GT/DP/GQ: processFormatFields reports nothing, yet every sample has a column.
  if (m === 0) for (const name of names) out[name] = {};
  return out;
}

// ---------------------------------------------------------------- message

interface MappingPlan {
  genes: GeneField[];
  unwrap: Set<string>;
  /** INFO keys the header declares Number=A or Number=R. */
  perAllele: Map<string, 'A' | 'R'>;
  formatMasks: Map<string, number>;
}

const plans = new WeakMap<VcfHeader, MappingPlan>();

function planFor(header: VcfHeader): MappingPlan {
  let plan = plans.get(header);
  if (!plan) {
    const meta = infoMetadata(header);
    const unwrap = new Set(Object.keys(meta).filter((k) => (meta[k] as MetaField).Number === 1));
    const perAllele = new Map<string, 'A' | 'R'>();
    for (const [key, field] of Object.entries(meta)) {
      const n = (field as MetaField).Number;
      if (n === 'A' || n === 'R') perAllele.set(key, n);
    }
    plan = { genes: geneFieldsForHeader(header), unwrap, perAllele, formatMasks: new Map() };
    plans.set(header, plan);
  }
  return plan;
}

function filterOf(filter: string | string[] | undefined): string[] {
  if (filter === undefined) return [];
  return typeof filter === 'string' ? [filter] : filter;
}

/**
 * Maps one record. Throws only when no message can be formed: CHROM or REF empty, POS not an
 * integer >= 0 (POS 0 is a telomere, valid VCF, e.g. in sniffles_SKBR3_tra.vcf).
 */
export function toVariantMessage(record: VcfRecord, header: VcfHeader, source: string): VariantMessageV1 {
  const { CHROM: chrom, POS: pos, REF: ref } = record;
  if (!chrom || !ref || !Number.isInteger(pos) || pos < 0) {
    const what = !chrom ? 'CHROM is empty' : !ref ? 'REF is empty' : `POS is not an integer >= 0`;
    throw new Error(`invalid VCF record (${what}): CHROM=${chrom} POS=${pos} REF=${ref}`);
  }
  const plan = planFor(header);
  const qual = record.QUAL;
  const msg: VariantMessageV1 = {
    chrom,
    pos,
    ref,
    alt: record.ALT ?? [],
    id: record.ID ? record.ID.join(';') : null,
    qual: qual === undefined || !Number.isFinite(qual) ? null : qual,
    filter: filterOf(record.FILTER),
    info: mapInfo(record.INFO, plan.unwrap, record.line),
  };
  const perAllele = perAlleleKeys(msg.info as Record<string, unknown>, plan.perAllele, msg.alt.length);
  if (perAllele) msg.info_per_allele = perAllele;
  const genes = resolveGenes(plan.genes, record.INFO);
  if (genes) msg.genes = genes;
  const samples = mapSamples(record, plan.formatMasks);
  if (samples) msg.samples = samples;
  msg.source = source;
  return msg;
}

/**
 * The record's INFO keys the header declares Number=A or R whose value has that many items (one
 * per ALT; REF and one per ALT): the consumer stores each ALT's own value on its row. A value of
 * another length is left whole (the consumer would refuse the split).
 */
function perAlleleKeys(
  info: Record<string, unknown>,
  declared: ReadonlyMap<string, 'A' | 'R'>,
  alts: number,
): Record<string, 'A' | 'R'> | undefined {
  if (declared.size === 0 || alts === 0) return undefined;
  let out: Record<string, 'A' | 'R'> | undefined;
  for (const key of Object.keys(info)) {
    const kind = declared.get(key);
    if (!kind) continue;
    const value = info[key];
    if (!Array.isArray(value) || value.length !== (kind === 'A' ? alts : alts + 1)) continue;
    out ??= {};
    out[key] = kind;
  }
  return out;
}

/** The Kafka key of a message: its site, `{chrom}-{pos}-{ref}`. */
export function messageKey(msg: Pick<VariantMessageV1, 'chrom' | 'pos' | 'ref'>): string {
  return siteKey(msg.chrom, msg.pos, msg.ref);
}
