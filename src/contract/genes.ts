/**
 * Gene symbols from a variant's INFO, used when the message carries no explicit `genes`.
 * Sources, in the contract's words: GENE; GENEINFO (`SYMBOL:ID|SYMBOL:ID`); SnpEff ANN (4th `|`
 * field of each comma-separated annotation); old SnpEff EFF (6th field inside the parentheses);
 * VEP CSQ (4th field); bcftools BCSQ (2nd field). Values are split on `&`; empty and `.` dropped.
 */

type Extractor = (annotation: string) => string | undefined;

const field =
  (index: number): Extractor =>
  (annotation) =>
    annotation.split('|')[index];

const EXTRACTORS: ReadonlyArray<readonly [string, Extractor]> = [
  ['GENE', (value) => value],
  [
    'GENEINFO',
    (value) =>
      value
        .split('|')
        .map((pair) => pair.split(':')[0] ?? '')
        .join('&'),
  ],
  ['ANN', field(3)],
  ['EFF', (value) => effGene(value)],
  ['CSQ', field(3)],
  ['BCSQ', field(1)],
];

/** Collects the gene symbols named by the INFO annotations, de-duplicated, in first-seen order. */
export function genesFromInfo(info: Record<string, unknown> | undefined): string[] {
  if (!info) return [];
  const genes = new Set<string>();
  for (const [key, extract] of EXTRACTORS) {
    const value = info[key];
    if (value === undefined || value === null) continue;
    for (const annotation of annotationsOf(key, value)) addSymbols(genes, extract(annotation));
  }
  return [...genes];
}

/** Normalises explicit `genes`: split on `&`, drop empty and `.`, de-duplicate. */
export function normaliseGenes(genes: readonly string[]): string[] {
  const out = new Set<string>();
  for (const gene of genes) addSymbols(out, gene);
  return [...out];
}

function addSymbols(into: Set<string>, text: string | undefined): void {
  if (!text) return;
  for (const part of text.split('&')) {
    // ASCII whitespace only: String.prototype.trim() also drops U+FEFF and other Unicode spaces.
    const symbol = part.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
    if (symbol !== '' && symbol !== '.') into.add(symbol);
  }
}

/** One INFO value becomes its annotations: arrays are flattened, strings split on `,`. */
function annotationsOf(key: string, value: unknown): string[] {
  const items = Array.isArray(value) ? value : [value];
  const out: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string') continue;
    // GENEINFO and GENE values never hold commas with meaning; annotations are comma-separated.
    if (key === 'GENE' || key === 'GENEINFO') out.push(item);
    else out.push(...item.split(','));
  }
  return out;
}

/** `EFFECT(IMPACT|CLASS|CODON|AA|LEN|GENE|...)`: the 6th field inside the parentheses. */
function effGene(annotation: string): string | undefined {
  const open = annotation.indexOf('(');
  const close = annotation.lastIndexOf(')');
  if (open < 0) return undefined;
  const inside = annotation.slice(open + 1, close > open ? close : undefined);
  return inside.split('|')[5];
}
