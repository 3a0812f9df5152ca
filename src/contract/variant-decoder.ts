/**
 * Decodes and validates one variant message (contract v1) into one record per ALT allele, the
 * samples it names, and the (sample, variant) calls its genotypes carry. Throws DecodeError with a
 * stable code for anything the contract rejects; never throws anything else for bad input.
 */
import { isUtf8 } from 'node:buffer';
import { DeadLetterCode, DecodeError } from './errors.ts';
import { genesFromInfo, normaliseGenes } from './genes.ts';
import { type CarriedAllele, carriedAlleles, type Zygosity } from './genotype.ts';

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

/** ALT values that are not variants: they yield no row, and are not an error. */
const NON_VARIANT_ALLELES = new Set(['<NON_REF>', '<*>', '*', '.']);

export function decodeVariantMessage(value: Buffer | null, contentType?: string): DecodedVariantMessage {
  if (contentType !== undefined && !isJsonContentType(contentType)) {
    throw new DecodeError(
      DeadLetterCode.UNSUPPORTED_CONTENT_TYPE,
      `content-type ${contentType} is not application/json`,
    );
  }
  const body = parseBody(value);
  const site = readSite(body);
  const alts = readAlts(body.alt);
  const { names, carriers } = readSamples(body.samples);
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

function isJsonContentType(contentType: string): boolean {
  return contentType.split(';')[0]?.trim().toLowerCase() === 'application/json';
}

function parseBody(value: Buffer | null): Record<string, unknown> {
  if (value === null || value.length === 0)
    throw new DecodeError(DeadLetterCode.EMPTY_VALUE, 'message value is empty');
  if (!isUtf8(value)) throw new DecodeError(DeadLetterCode.INVALID_UTF8, 'message value is not valid UTF-8');
  let body: unknown;
  try {
    body = JSON.parse(value.toString('utf8'));
  } catch (error) {
    throw new DecodeError(
      DeadLetterCode.INVALID_JSON,
      `message value is not JSON: ${(error as Error).message}`,
    );
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new DecodeError(DeadLetterCode.NOT_AN_OBJECT, 'message value is not a JSON object');
  }
  return body as Record<string, unknown>;
}

type Site = Omit<DecodedVariant, 'variantId' | 'alt' | 'sampleCount'>;

function readSite(body: Record<string, unknown>): Site {
  const chrom = requireString(body, 'chrom');
  const ref = requireString(body, 'ref');
  const pos = body.pos;
  if (pos === undefined || pos === null) throw missing('pos');
  if (typeof pos !== 'number' || !Number.isSafeInteger(pos) || pos < 1) {
    throw invalid('pos', `must be an integer >= 1, got ${preview(pos)}`);
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
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw invalid(`samples.${sample}.${key}`, `must be a number, got ${preview(value)}`);
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

function requireString(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  if (value === undefined || value === null) throw missing(key);
  if (typeof value !== 'string' || value === '')
    throw invalid(key, `must be a non-empty string, got ${preview(value)}`);
  return value;
}

function optionalString(body: Record<string, unknown>, key: string): string | null {
  const value = body[key];
  if (value === undefined || value === null || value === '.') return null;
  if (typeof value !== 'string') throw invalid(key, `must be a string, got ${preview(value)}`);
  return value;
}

function optionalNumber(body: Record<string, unknown>, key: string): number | null {
  const value = body[key];
  if (value === undefined || value === null || value === '.') return null;
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw invalid(key, `must be a number, got ${preview(value)}`);
  return value;
}

function stringArray(value: unknown, key: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw invalid(key, `must be an array of strings, got ${preview(value)}`);
  }
  return value as string[];
}

function missing(key: string): DecodeError {
  return new DecodeError(DeadLetterCode.MISSING_FIELD, `required field "${key}" is missing`);
}

function invalid(key: string, reason: string): DecodeError {
  return new DecodeError(DeadLetterCode.INVALID_FIELD, `field "${key}" ${reason}`);
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
