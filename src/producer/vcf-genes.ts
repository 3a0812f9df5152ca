/**
 * Gene symbols of a VCF record, resolved with the header's help: the position of the symbol in
 * VEP CSQ / gnomAD vep (`SYMBOL` in the header's `Format:`), SnpEff ANN (`Gene_Name`), old SnpEff
 * EFF (`Gene_Name` inside the parentheses), bcftools BCSQ, plus GENEINFO and GENE. The producer
 * sends the result as the message's `genes`, so consumers need no header.
 */
import type { InfoValue, MetaMap } from '@gmod/vcf';
import type { VcfHeader } from './vcf-reader.ts';

type GeneFieldKind = 'pipe' | 'eff' | 'geneinfo' | 'plain';

export interface GeneField {
  /** The INFO id, e.g. `CSQ`. */
  readonly key: string;
  readonly kind: GeneFieldKind;
  /** 0-based index of the symbol among the `|`-separated subfields (pipe and eff kinds). */
  readonly index: number;
  /** 0-based index of the consequence subfield checked for `intergenic_region`; -1 = no check. */
  readonly skipIntergenicAt: number;
}

/**
 * Gene-bearing INFO fields, consulted in this order (all present ones contribute):
 * VEP `CSQ` / gnomAD `vep` → the `SYMBOL` subfield named in the header's Format (else 4th);
 * SnpEff `ANN` → `Gene_Name` (else 4th), skipping `intergenic_region` annotations whose
 * Gene_Name is the flanking pair (`PLA2G4A-BRINP3`), not a gene; old SnpEff `EFF` →
 * `Gene_Name` inside the parentheses (else 6th): SnpEff 3 files have no Amino_Acid_length,
 * so it is the 5th there and the 6th is the biotype; bcftools `BCSQ` → `gene` (else 2nd);
 * `GENEINFO` → symbols of `SYMBOL:ID|SYMBOL:ID`; `GENE` → the value.
 */
const GENE_SPECS: readonly { key: string; kind: GeneFieldKind; name: string; fallback: number }[] = [
  { key: 'CSQ', kind: 'pipe', name: 'SYMBOL', fallback: 3 },
  { key: 'vep', kind: 'pipe', name: 'SYMBOL', fallback: 3 },
  { key: 'ANN', kind: 'pipe', name: 'Gene_Name', fallback: 3 },
  { key: 'EFF', kind: 'eff', name: 'Gene_Name', fallback: 5 },
  { key: 'BCSQ', kind: 'pipe', name: 'gene', fallback: 1 },
  { key: 'GENEINFO', kind: 'geneinfo', name: '', fallback: 0 },
  { key: 'GENE', kind: 'plain', name: '', fallback: 0 },
];

/**
 * Subfield names listed in an annotation header Description, e.g. `... Format:
 * Allele|Consequence|...` or `Functional annotations: 'Allele | Annotation | ...'`.
 */
export function annotationSubfields(description: string, insideParens = false): string[] {
  let s = description.slice(description.indexOf(':') + 1);
  if (insideParens) s = s.slice(s.indexOf('(') + 1);
  if (!s.includes('|')) return [];
  return s.split('|').map((f) => f.replace(/['"[\]()*]/g, '').trim());
}

function describedIndex(infoMeta: MetaMap, key: string, name: string, parens: boolean, fallback: number) {
  const desc = infoMeta[key]?.Description;
  const idx = typeof desc === 'string' ? annotationSubfields(desc, parens).indexOf(name) : -1;
  return idx === -1 ? fallback : idx;
}

/** Where each gene-bearing field keeps its symbol, for this header. */
export function geneFieldsForHeader(header: VcfHeader): GeneField[] {
  const meta = infoMetadata(header);
  return GENE_SPECS.map(({ key, kind, name, fallback }) => ({
    key,
    kind,
    index: name ? describedIndex(meta, key, name, kind === 'eff', fallback) : 0,
    skipIntergenicAt: key === 'ANN' ? describedIndex(meta, key, 'Annotation', false, 1) : -1,
  }));
}

/** The n-th (0-based) `|`-separated subfield of s[from, to), or '' when there are fewer. */
function nthSubfield(s: string, n: number, from = 0, to = s.length): string {
  let start = from;
  for (let i = 0; i < n; i++) {
    const bar = s.indexOf('|', start);
    if (bar === -1 || bar >= to) return '';
    start = bar + 1;
  }
  const end = s.indexOf('|', start);
  return s.slice(start, end === -1 || end > to ? to : end);
}

function addSymbols(value: string, out: Set<string>): void {
  if (!value.includes('&')) {
    if (value.length > 0 && value !== '.') out.add(value);
    return;
  }
  for (const part of value.split('&')) if (part.length > 0 && part !== '.') out.add(part);
}

function addEntry(field: GeneField, entry: string, out: Set<string>): void {
  if (field.kind === 'plain') {
    addSymbols(entry, out);
    return;
  }
  if (field.kind === 'geneinfo') {
    for (const pair of entry.split('|')) {
      const colon = pair.indexOf(':');
      addSymbols(colon === -1 ? pair : pair.slice(0, colon), out);
    }
    return;
  }
  if (field.kind === 'eff') {
    const open = entry.indexOf('(');
    const close = entry.lastIndexOf(')');
    if (open !== -1)
      addSymbols(nthSubfield(entry, field.index, open + 1, close > open ? close : entry.length), out);
    return;
  }
  if (field.skipIntergenicAt >= 0 && nthSubfield(entry, field.skipIntergenicAt) === 'intergenic_region')
    return;
  addSymbols(nthSubfield(entry, field.index), out);
}

/**
 * Gene symbols in `info` (as parsed by @gmod/vcf): undefined when no annotation
 * field is present, [] when one is present but names no gene.
 */
export function resolveGenes(
  fields: readonly GeneField[],
  info: Record<string, InfoValue>,
): string[] | undefined {
  let seen = false;
  const out = new Set<string>();
  for (const field of fields) {
    const value = info[field.key];
    if (value === undefined) continue;
    seen = true;
    if (value === true) continue;
    for (const entry of value) if (typeof entry === 'string') addEntry(field, entry, out);
  }
  return seen ? Array.from(out) : undefined;
}

/** The header's INFO metadata, by field id. */
export function infoMetadata(header: VcfHeader): MetaMap {
  return (header.parser.getMetadata('INFO') ?? {}) as MetaMap;
}
