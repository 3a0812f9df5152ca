/**
 * Decodes and validates one variant message (contract v1) into one record per ALT allele, the
 * samples it names, and the (sample, variant) calls its genotypes carry. Throws DecodeError with a
 * stable code for anything the contract rejects; never throws anything else for bad input.
 *
 * Long file: the variant contract's validation (site, alleles, genotypes, INFO per allele, limits)
 * in decoding order, so each code's cause is found where it is thrown.
 */
import { DeadLetterCode, DecodeError } from './errors.ts';
import { genesFromInfo, normaliseGenes } from './genes.ts';
import { type CarriedAllele, carriedAlleles, PLOIDY_EXCEEDED, type Zygosity } from './genotype.ts';
import {
  invalid,
  mediaType,
  missing,
  optionalNumber,
  optionalString,
  parseBody,
  preview,
  requireString,
  stringArray,
} from './json-fields.ts';
import {
  checkAlt,
  checkChrom,
  checkInfoDepth,
  checkLength,
  checkRef,
  DEFAULT_VARIANT_LIMITS,
  type VariantLimits,
} from './limits.ts';

export interface DecodedVariant {
  variantId: string;
  chrom: string;
  pos: number;
  ref: string;
  alt: string;
  rsid: string | null;
  qual: number | null;
  filter: string[];
  genes: string[];
  /** The INFO object as JSON text. */
  info: string;
  /** Samples of this message that carry this allele. */
  sampleCount: number;
  source: string | null;
}

export interface SampleCall {
  sample: string;
  variantId: string;
  gt: string;
  zygosity: Zygosity;
  dp: number | null;
  gq: number | null;
}

export interface DecodedVariantMessage {
  variants: DecodedVariant[];
  /** Every sample named by the message (each becomes a Sample node). */
  samples: string[];
  calls: SampleCall[];
}

/**
 * ALT values that are not variants: they yield no row, and are not an error. An empty allele
 * (`A,,T` in a VCF) is a missing one; the alleles after it keep their numbers.
 */
const NON_VARIANT_ALLELES = new Set(['<NON_REF>', '<*>', '*', '.', '']);

export function decodeVariantMessage(
  value: Buffer | null,
  contentType?: string,
  limits: Readonly<VariantLimits> = DEFAULT_VARIANT_LIMITS,
): DecodedVariantMessage {
  if (contentType !== undefined && mediaType(contentType) !== 'application/json') {
    throw new DecodeError(
      DeadLetterCode.UNSUPPORTED_CONTENT_TYPE,
      `content-type ${contentType} is not application/json`,
    );
  }
  const body = parseBody(value);
  const { site, info } = readSite(body, limits);
  const alts = readAlts(body.alt, limits);
  const { names, carriers } = readSamples(body.samples, limits);
  // Ids, and whether each allele is a variant, once per allele; then each carried allele of each
  // sample is one lookup: the work is the genotypes' size, never samples x ALTs.
  const ids = alts.map((alt, index) => {
    if (NON_VARIANT_ALLELES.has(alt)) return undefined;
    checkAlt(alt, index);
    return `${site.chrom}-${site.pos}-${site.ref}-${alt}`;
  });
  const rowInfo = infoOfRows(info, body.info_per_allele, alts.length, ids, limits);
  const carrying = new Array<number>(alts.length).fill(0);
  const calls: SampleCall[] = [];
  for (const sample of carriers) {
    for (const carried of sample.carried) {
      // A genotype naming an allele the site lacks is malformed (hts-specs failed_body_sample_001);
      // without any ALT (`.`) the record yields nothing and is let through (passed_body_alt).
      if (carried.allele > alts.length) {
        if (alts.length === 0) continue;
        throw invalid(
          `samples.${sample.name}.GT`,
          `names allele ${carried.allele}, but the site has ${alts.length} ALT allele${alts.length === 1 ? '' : 's'}: ${preview(sample.gt)}`,
        );
      }
      const variantId = ids[carried.allele - 1];
      if (variantId === undefined) continue;
      if (calls.length === limits.maxCalls)
        throw new DecodeError(
          DeadLetterCode.TOO_MANY_CALLS,
          `the message yields more than ${limits.maxCalls} (sample, allele) calls (VARSTREAM_MAX_CALLS)`,
        );
      carrying[carried.allele - 1] = (carrying[carried.allele - 1] ?? 0) + 1;
      calls.push({
        sample: sample.name,
        variantId,
        gt: sample.gt,
        zygosity: carried.zygosity,
        dp: sample.dp,
        gq: sample.gq,
      });
    }
  }
  const variants: DecodedVariant[] = [];
  alts.forEach((alt, index) => {
    const variantId = ids[index];
    if (variantId !== undefined)
      variants.push({ ...site, info: rowInfo(index), variantId, alt, sampleCount: carrying[index] ?? 0 });
  });
  return { variants, samples: names, calls };
}

type ParsedInfo = { value: Record<string, unknown>; json: string } | undefined;

/**
 * The INFO JSON of each ALT's row. Without `info_per_allele` every row holds the whole object.
 * With it, a key marked `A` (one value per ALT) holds the row's own value, and one marked `R`
 * (REF first, then one per ALT) `[ref value, row's value]`; its array must have that length.
 * The bytes stored over all rows are bounded (INFO_TOO_LARGE): a large INFO on many ALTs is
 * otherwise copied once per row.
 */
function infoOfRows(
  info: ParsedInfo,
  perAlleleField: unknown,
  altCount: number,
  ids: ReadonlyArray<string | undefined>,
  limits: Readonly<VariantLimits>,
): (index: number) => string {
  const rows = Math.max(1, ids.filter((id) => id !== undefined).length);
  const json = info?.json ?? '{}';
  const bytes = json.length * rows * 3 <= limits.maxInfoBytes ? 0 : Buffer.byteLength(json) * rows;
  if (bytes > limits.maxInfoBytes)
    throw new DecodeError(
      DeadLetterCode.INFO_TOO_LARGE,
      rows === 1
        ? `field "info" is ${bytes} bytes as JSON, more than the limit of ${limits.maxInfoBytes} (VARSTREAM_MAX_INFO_BYTES)`
        : `field "info" is ${bytes / rows} bytes as JSON on each of ${rows} ALT rows, ${bytes} in all, more than the limit of ${limits.maxInfoBytes} (VARSTREAM_MAX_INFO_BYTES)`,
    );
  if (perAlleleField === undefined || perAlleleField === null) return () => json;
  if (typeof perAlleleField !== 'object' || Array.isArray(perAlleleField))
    throw invalid('info_per_allele', 'must be an object of INFO keys to "A" or "R"');
  const split = new Map<string, unknown[]>();
  const kinds = new Map<string, 'A' | 'R'>();
  for (const [key, kind] of Object.entries(perAlleleField as Record<string, unknown>)) {
    if (kind !== 'A' && kind !== 'R')
      throw invalid(`info_per_allele.${key}`, `must be "A" or "R", got ${preview(kind)}`);
    const values = info?.value[key];
    if (values === undefined || values === null) continue;
    const expected = kind === 'A' ? altCount : altCount + 1;
    if (!Array.isArray(values) || values.length !== expected)
      throw invalid(
        `info.${key}`,
        `must be an array of ${expected} values (Number=${kind}, ${altCount} ALT allele${altCount === 1 ? '' : 's'}), got ${preview(values)}`,
      );
    split.set(key, values);
    kinds.set(key, kind);
  }
  if (split.size === 0 || !info) return () => json;
  return (index) => {
    const row: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(info.value)) {
      const values = split.get(key);
      row[key] =
        values === undefined
          ? value
          : kinds.get(key) === 'A'
            ? values[index]
            : [values[0], values[index + 1]];
    }
    return JSON.stringify(row);
  };
}

type Site = Omit<DecodedVariant, 'variantId' | 'alt' | 'sampleCount' | 'info'>;

function readSite(
  body: Record<string, unknown>,
  limits: Readonly<VariantLimits>,
): { site: Site; info: ParsedInfo } {
  const chrom = requireString(body, 'chrom');
  checkLength('chrom', chrom, limits.maxNameBytes);
  checkChrom(chrom);
  const ref = requireString(body, 'ref');
  checkLength('ref', ref, limits.maxAlleleBytes);
  checkRef(ref);
  const pos = body.pos;
  if (pos === undefined || pos === null) throw missing('pos');
  // VCF positions are 1-based; 0 (and length + 1) stand for a telomere.
  if (typeof pos !== 'number' || !Number.isSafeInteger(pos) || pos < 0) {
    throw invalid('pos', `must be an integer >= 0, got ${preview(pos)}`);
  }
  if (body.alt === undefined || body.alt === null) throw missing('alt');
  const info = readInfo(body.info, limits);
  const rsid = optionalString(body, 'id');
  if (rsid !== null) checkLength('id', rsid, limits.maxNameBytes);
  const filter = readFilter(body.filter);
  for (const name of filter) checkLength('filter', name, limits.maxNameBytes);
  const genes =
    body.genes === undefined || body.genes === null
      ? genesFromInfo(info?.value)
      : normaliseGenes(stringArray(body.genes, 'genes'));
  for (const gene of genes) checkLength('genes', gene, limits.maxNameBytes);
  return {
    site: {
      chrom,
      pos,
      ref,
      rsid,
      qual: optionalNumber(body, 'qual'),
      filter,
      genes,
      source: optionalString(body, 'source'),
    },
    info,
  };
}

function readAlts(alt: unknown, limits: Readonly<VariantLimits>): string[] {
  const alts =
    typeof alt === 'string' ? (alt === '.' || alt === '' ? [] : alt.split(',')) : stringArray(alt, 'alt');
  if (alts.length > limits.maxAlts)
    throw new DecodeError(
      DeadLetterCode.TOO_MANY_ALTS,
      `the record has ${alts.length} ALT alleles, more than the limit of ${limits.maxAlts} (VARSTREAM_MAX_ALTS)`,
    );
  for (const [i, a] of alts.entries()) checkLength(`alt[${i}]`, a, limits.maxAlleleBytes);
  return alts;
}

interface SampleGenotype {
  name: string;
  gt: string;
  dp: number | null;
  gq: number | null;
  carried: CarriedAllele[];
}

/** Every sample's name, and the genotypes of those that carry an alternate allele. */
function readSamples(
  samples: unknown,
  limits: Readonly<VariantLimits>,
): { names: string[]; carriers: SampleGenotype[] } {
  const names: string[] = [];
  const carriers: SampleGenotype[] = [];
  if (samples === undefined || samples === null) return { names, carriers };
  if (typeof samples !== 'object' || Array.isArray(samples))
    throw invalid('samples', 'must be an object keyed by sample');
  for (const name in samples) {
    const call = (samples as Record<string, unknown>)[name];
    if (name === '') throw invalid('samples', 'a sample name is empty');
    checkLength('samples', name, limits.maxNameBytes);
    if (call === null || typeof call !== 'object' || Array.isArray(call))
      throw invalid(`samples.${name}`, 'must be an object');
    const fields = call as Record<string, unknown>;
    const gt = fields.GT === undefined || fields.GT === null ? '.' : fields.GT;
    if (typeof gt !== 'string') throw invalid(`samples.${name}.GT`, `must be a string, got ${preview(gt)}`);
    const carried = carriedAlleles(gt, limits.maxPloidy);
    if (carried === PLOIDY_EXCEEDED)
      throw new DecodeError(
        DeadLetterCode.PLOIDY_TOO_HIGH,
        `field "samples.${name}.GT" has more than ${limits.maxPloidy} alleles (VARSTREAM_MAX_PLOIDY): ${preview(gt)}`,
      );
    if (!carried) throw invalid(`samples.${name}.GT`, `is not a genotype: ${preview(gt)}`);
    const dp = sampleInt(fields, 'DP', name);
    const gq = sampleInt(fields, 'GQ', name);
    names.push(name);
    if (carried.length > 0) carriers.push({ name, gt, carried, dp, gq });
  }
  return { names, carriers };
}

function sampleInt(fields: Record<string, unknown>, key: string, sample: string): number | null {
  const value = fields[key];
  if (value === undefined || value === null || value === '.') return null;
  // Integers within +-2^53: each store holds them exactly (Kuzu as INT64).
  if (typeof value !== 'number' || !Number.isSafeInteger(Math.round(value)))
    throw invalid(`samples.${sample}.${key}`, `must be an integer within +-2^53, got ${preview(value)}`);
  return Math.round(value);
}

/** INFO and its JSON (its size is checked once the number of rows is known: infoOfRows). */
function readInfo(info: unknown, limits: Readonly<VariantLimits>): ParsedInfo {
  if (info === undefined || info === null) return undefined;
  if (typeof info !== 'object' || Array.isArray(info)) throw invalid('info', 'must be an object');
  const value = info as Record<string, unknown>;
  checkInfoDepth(value, limits.maxInfoDepth);
  return { value, json: JSON.stringify(value) };
}

function readFilter(filter: unknown): string[] {
  if (filter === undefined || filter === null || filter === '.') return [];
  if (typeof filter === 'string') return filter.split(';');
  return stringArray(filter, 'filter');
}
