/**
 * The variant message contract, v1 (see ARCHITECTURE.md section 3).
 * Producers publish one message per VCF record, keyed by `{chrom}-{pos}-{ref}`,
 * with content-type `application/json`.
 */
export interface VariantSampleV1 {
  GT?: string;
  DP?: number | null;
  GQ?: number | null;
  [format: string]: unknown;
}

export interface VariantMessageV1 {
  chrom: string;
  /** VCF 1-based position, integer >= 1. */
  pos: number;
  ref: string;
  /** A string or an array of strings; "." or [] means no alternate allele. */
  alt: string | string[];
  id?: string | null;
  qual?: number | null;
  filter?: string[] | string | null;
  info?: Record<string, unknown>;
  /**
   * INFO keys whose array holds one value per ALT (`"A"`) or REF then one per ALT (`"R"`), as the
   * VCF header's Number says: each ALT's row stores its own value (`[REF's, its own]` for R).
   */
  info_per_allele?: Record<string, 'A' | 'R'>;
  /** Explicit gene symbols; when absent the consumer derives them from `info`. */
  genes?: string[];
  samples?: Record<string, VariantSampleV1>;
  source?: string;
}

export const VARIANT_CONTENT_TYPE = 'application/json';

/** The message key producers use: every message about one site lands on one partition. */
export function siteKey(chrom: string, pos: number, ref: string): string {
  return `${chrom}-${pos}-${ref}`;
}
