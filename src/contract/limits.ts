/**
 * Bounds on the work one variant message can cause, and the VCF grammar of its site fields. Each
 * bound breached is a dead letter with its own code (errors.ts); the defaults accept every real
 * file in the project's corpora with at least four times headroom (docs/design/message-limits.md).
 */
import { DeadLetterCode, DecodeError } from './errors.ts';

export interface VariantLimits {
  /** ALT alleles of one record (TOO_MANY_ALTS). */
  maxAlts: number;
  /** Alleles of one genotype, e.g. 4 for `0/1/1/2` (PLOIDY_TOO_HIGH). */
  maxPloidy: number;
  /** (sample, allele) calls one message yields, i.e. CARRIED_BY edges (TOO_MANY_CALLS). */
  maxCalls: number;
  /** UTF-8 bytes of CHROM, ID, each FILTER, each sample name and each gene symbol (FIELD_TOO_LONG). */
  maxNameBytes: number;
  /** UTF-8 bytes of REF and of each ALT allele (FIELD_TOO_LONG). */
  maxAlleleBytes: number;
  /** Bytes of the INFO object as JSON (INFO_TOO_LARGE). */
  maxInfoBytes: number;
  /** Nesting of the INFO object: `{"DP": 3}` is 1, `{"AF": [0.1]}` 2 (INFO_TOO_DEEP). */
  maxInfoDepth: number;
}

export const DEFAULT_VARIANT_LIMITS: Readonly<VariantLimits> = Object.freeze({
  maxAlts: 256,
  maxPloidy: 16,
  maxCalls: 500_000,
  maxNameBytes: 1024,
  maxAlleleBytes: 1024 * 1024,
  maxInfoBytes: 8 * 1024 * 1024,
  maxInfoDepth: 8,
});

/**
 * VCF 4.3 CHROM: no whitespace, commas, angle or square brackets; not starting with `*` or `=`
 * (`HLA-A*01:01:01:01` is fine); or a whole angle-bracketed contig ID, `<1>` (VCF 4.1-4.3).
 */
const CHROM =
  /^([0-9A-Za-z!#$%&+./:;?@^_|~-][0-9A-Za-z!#$%&*+./:;=?@^_|~-]*|<[0-9A-Za-z!#$%&*+./:;=?@^_|~-]+>)$/;
/** REF: bases; IUPAC ambiguity codes too (reference FASTAs hold them at a few positions). */
const REF_BASES = /^[ACGTURYKMSWBDHVNacgturykmswbdhvn]+$/;
/** ALT bases: A, C, G, T, N only (VCF 4.3 section 1.6.1). */
const BASES = /^[ACGTNacgtn]+$/;
/** ALT: bases, `*`, a symbolic allele `<ID>`, a breakend `t[p[`, `t]p]`, `]p]t`, `[p[t`, `.t`, `t.`. */
const SYMBOLIC = /^<[^<>\s,]+>$/;
const BREAKEND = /^[A-Za-z]*[[\]][^[\]\s,]+:\d+[[\]][A-Za-z]*$/;
const SINGLE_BREAKEND = /^(\.[A-Za-z]+|[A-Za-z]+\.)$/;

function invalidField(key: string, reason: string): DecodeError {
  return new DecodeError(DeadLetterCode.INVALID_FIELD, `field "${key}" ${reason}`);
}

function show(text: string): string {
  const quoted = JSON.stringify(text);
  return quoted.length > 60 ? `${quoted.slice(0, 57)}..."` : quoted;
}

/** Throws FIELD_TOO_LONG when `text` is longer than `max` UTF-8 bytes. */
export function checkLength(key: string, text: string, max: number): void {
  // A UTF-16 unit is at most 3 UTF-8 bytes: most strings are decided without counting.
  if (text.length * 3 <= max) return;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > max)
    throw new DecodeError(
      DeadLetterCode.FIELD_TOO_LONG,
      `field "${key}" is ${bytes} bytes, more than the limit of ${max} (VARSTREAM_MAX_${key === 'ref' || key.startsWith('alt') ? 'ALLELE' : 'NAME'}_BYTES)`,
    );
}

export function checkChrom(chrom: string): void {
  if (!CHROM.test(chrom))
    throw invalidField(
      'chrom',
      `is not a VCF contig name (no whitespace, ",", "<>", "[]"; not starting with "*" or "="): ${show(chrom)}`,
    );
}

export function checkRef(ref: string): void {
  if (!REF_BASES.test(ref))
    throw invalidField('ref', `must be bases (A, C, G, T, N or IUPAC codes): ${show(ref)}`);
}

/** An ALT allele that is a variant (the non-variants `*`, `.`, `<*>`, `<NON_REF>`, '' are sorted out before). */
export function checkAlt(alt: string, index: number): void {
  if (BASES.test(alt) || SYMBOLIC.test(alt) || BREAKEND.test(alt) || SINGLE_BREAKEND.test(alt)) return;
  throw invalidField(
    `alt[${index}]`,
    `is not a VCF allele (bases A, C, G, T, N; "*"; "<ID>"; a breakend such as "G]17:198982]"): ${show(alt)}`,
  );
}

/**
 * The INFO object's nesting, walked without recursion and given up past `max`: a 20,000-deep
 * object must not overflow the stack of whoever reads it (JSON.stringify included).
 */
export function checkInfoDepth(info: Record<string, unknown>, max: number): void {
  const stack: Array<[unknown, number]> = [[info, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop() as [unknown, number];
    if (value === null || typeof value !== 'object') continue;
    if (depth > max)
      throw new DecodeError(
        DeadLetterCode.INFO_TOO_DEEP,
        `field "info" nests deeper than the limit of ${max} levels (VARSTREAM_MAX_INFO_DEPTH)`,
      );
    for (const child of Array.isArray(value) ? value : Object.values(value)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
}
