/**
 * Genotype (GT) parsing: which alternate alleles a sample carries, and its zygosity for each.
 * `0/1` carries allele 1; `1|2` carries 1 and 2; `./.` and `0/0` carry none; haploid `1` carries 1.
 * VCF 4.4 may put a phasing indicator before the first allele (`/0/1`, `|0|1`, `|1`): it is read
 * as a separator, so those are `0/1`, `0|1` and haploid `1`.
 */

export const Zygosity = { HOM: 'HOM', HET: 'HET', HEMI: 'HEMI' } as const;
export type Zygosity = (typeof Zygosity)[keyof typeof Zygosity];

export interface CarriedAllele {
  /** 1-based index into ALT. */
  allele: number;
  zygosity: Zygosity;
}

const NONE: CarriedAllele[] = Object.freeze([]) as unknown as CarriedAllele[];
/** Genotypes that carry no alternate allele; most samples of a population VCF have one of these. */
const CARRY_NOTHING = new Set(['0/0', '0|0', './.', '.|.', '.', '0', '0/.', './0', '0|.', '.|0']);

/** What `carriedAlleles` returns for a genotype of more alleles than its `maxPloidy`. */
export const PLOIDY_EXCEEDED = Symbol('ploidy exceeded');

/**
 * Returns the alternate alleles the genotype carries (a shared, frozen empty array when none),
 * `undefined` when the GT is not a genotype (a token that is neither `.` nor a non-negative
 * integer), or PLOIDY_EXCEEDED when it has more than `maxPloidy` alleles (counted before splitting).
 */
export function carriedAlleles(
  text: string,
  maxPloidy = Number.POSITIVE_INFINITY,
): CarriedAllele[] | undefined | typeof PLOIDY_EXCEEDED {
  const gt = text.length > 1 && (text[0] === '/' || text[0] === '|') ? text.slice(1) : text;
  if (CARRY_NOTHING.has(gt)) return NONE;
  let separators = 0;
  for (let i = 0; i < gt.length; i++) {
    const c = gt.charCodeAt(i);
    if ((c === 47 /* / */ || c === 124) /* | */ && ++separators >= maxPloidy) return PLOIDY_EXCEEDED;
  }
  const tokens = gt.split(/[/|]/);
  const calls: number[] = [];
  for (const token of tokens) {
    if (token === '.') {
      calls.push(-1);
      continue;
    }
    if (!/^\d{1,6}$/.test(token)) return undefined;
    calls.push(Number(token));
  }
  const out: CarriedAllele[] = [];
  for (const allele of new Set(calls)) {
    if (allele <= 0) continue;
    out.push({ allele, zygosity: zygosityOf(allele, calls) });
  }
  return out;
}

function zygosityOf(allele: number, calls: number[]): Zygosity {
  if (calls.length === 1) return Zygosity.HEMI;
  return calls.every((c) => c === allele) ? Zygosity.HOM : Zygosity.HET;
}
