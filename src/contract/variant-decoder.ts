/**
 * Decodes and validates one variant message (contract v1) into one record per ALT allele, the
 * samples it names, and the (sample, variant) calls its genotypes carry. Throws DecodeError with a
 * stable code for anything the contract rejects; never throws anything else for bad input.
 */
import { DeadLetterCode, DecodeError } from './errors.ts';
import { genesFromInfo, normaliseGenes } from './genes.ts';
import { type CarriedAllele, carriedAlleles, type Zygosity } from './genotype.ts';
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

export function decodeVariantMessage(value: Buffer | null, contentType?: string): DecodedVariantMessage {
  if (contentType !== undefined && mediaType(contentType) !== 'application/json') {
    throw new DecodeError(
      DeadLetterCode.UNSUPPORTED_CONTENT_TYPE,
      `content-type ${contentType} is not application/json`,
    );
  }
  const body = parseBody(value);
  const site = readSite(body);
  const alts = readAlts(body.alt);
  const { names, carriers } = readSamples(body.samples);
  // A genotype naming an allele the site lacks is malformed (hts-specs failed_body_sample_001);
  // without any ALT (`.`) the record yields nothing and is let through (passed_body_alt).
  for (const sample of alts.length > 0 ? carriers : []) {
    const beyond = sample.carried.find((c) => c.allele > alts.length);
    if (beyond)
      throw invalid(
        `samples.${sample.name}.GT`,
        `names allele ${beyond.allele}, but the site has ${alts.length} ALT allele${alts.length === 1 ? '' : 's'}: ${preview(sample.gt)}`,
      );
  }
  const variants: DecodedVariant[] = [];
  const calls: SampleCall[] = [];
  alts.forEach((alt, index) => {
    if (NON_VARIANT_ALLELES.has(alt)) return;
    const variantId = `${site.chrom}-${site.pos}-${site.ref}-${alt}`;
    const before = calls.length;
    for (const sample of carriers) {
      const carried = sample.carried.find((c) => c.allele === index + 1);
      if (carried)
        calls.push({
          sample: sample.name,
          variantId,
          gt: sample.gt,
          zygosity: carried.zygosity,
          dp: sample.dp,
          gq: sample.gq,
        });
    }
    variants.push({ ...site, variantId, alt, sampleCount: calls.length - before });
  });
  return { variants, samples: names, calls };
}

type Site = Omit<DecodedVariant, 'variantId' | 'alt' | 'sampleCount'>;

function readSite(body: Record<string, unknown>): Site {
  const chrom = requireString(body, 'chrom');
  const ref = requireString(body, 'ref');
  const pos = body.pos;
  if (pos === undefined || pos === null) throw missing('pos');
  // VCF positions are 1-based; 0 (and length + 1) stand for a telomere.
  if (typeof pos !== 'number' || !Number.isSafeInteger(pos) || pos < 0) {
    throw invalid('pos', `must be an integer >= 0, got ${preview(pos)}`);
  }
  if (body.alt === undefined || body.alt === null) throw missing('alt');
  const info = readInfo(body.info);
  return {
    chrom,
    pos,
    ref,
    rsid: optionalString(body, 'id'),
    qual: optionalNumber(body, 'qual'),
    filter: readFilter(body.filter),
    genes:
      body.genes === undefined || body.genes === null
        ? genesFromInfo(info)
        : normaliseGenes(stringArray(body.genes, 'genes')),
    info: info === undefined ? '{}' : JSON.stringify(info),
    source: optionalString(body, 'source'),
  };
}

function readAlts(alt: unknown): string[] {
  if (typeof alt === 'string') return alt === '.' || alt === '' ? [] : alt.split(',');
  return stringArray(alt, 'alt');
}

interface SampleGenotype {
  name: string;
  gt: string;
  dp: number | null;
  gq: number | null;
  carried: CarriedAllele[];
}

/** Every sample's name, and the genotypes of those that carry an alternate allele. */
function readSamples(samples: unknown): { names: string[]; carriers: SampleGenotype[] } {
  const names: string[] = [];
  const carriers: SampleGenotype[] = [];
  if (samples === undefined || samples === null) return { names, carriers };
  if (typeof samples !== 'object' || Array.isArray(samples))
    throw invalid('samples', 'must be an object keyed by sample');
  for (const name in samples) {
    const call = (samples as Record<string, unknown>)[name];
    if (name === '') throw invalid('samples', 'a sample name is empty');
    if (call === null || typeof call !== 'object' || Array.isArray(call))
      throw invalid(`samples.${name}`, 'must be an object');
    const fields = call as Record<string, unknown>;
    const gt = fields.GT === undefined || fields.GT === null ? '.' : fields.GT;
    if (typeof gt !== 'string') throw invalid(`samples.${name}.GT`, `must be a string, got ${preview(gt)}`);
    const carried = carriedAlleles(gt);
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

function readInfo(info: unknown): Record<string, unknown> | undefined {
  if (info === undefined || info === null) return undefined;
  if (typeof info !== 'object' || Array.isArray(info)) throw invalid('info', 'must be an object');
  return info as Record<string, unknown>;
}

function readFilter(filter: unknown): string[] {
  if (filter === undefined || filter === null || filter === '.') return [];
  if (typeof filter === 'string') return filter.split(';');
  return stringArray(filter, 'filter');
}
