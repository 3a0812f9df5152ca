/**
 * What a VCF should produce in the stores, computed independently of the pipeline: a plain line
 * split of the file (no VCF library, no decoder code), applying the contract's rules directly.
 */
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';

export interface Expected {
  records: number;
  variants: Set<string>;
  samples: Set<string>;
  genes: Set<string>;
  inGene: Set<string>;
  carriedBy: Set<string>;
}

const NOT_VARIANTS = new Set(['<NON_REF>', '<*>', '*', '.', '']);

export async function expectedFromVcf(path: string): Promise<Expected> {
  await access(path); // readline's iterator never settles when its input stream fails to open
  const input = createReadStream(path);
  const text = path.endsWith('.gz') ? input.pipe(createGunzip()) : input;
  const e: Expected = {
    records: 0,
    variants: new Set(),
    samples: new Set(),
    genes: new Set(),
    inGene: new Set(),
    carriedBy: new Set(),
  };
  let sampleNames: string[] = [];
  for await (const line of createInterface({ input: text, crlfDelay: Number.POSITIVE_INFINITY })) {
    if (line.startsWith('##')) continue;
    const cols = line.split('\t');
    if (line.startsWith('#')) {
      sampleNames = cols.slice(9);
      continue;
    }
    if (line === '') continue;
    e.records++;
    for (const s of sampleNames) e.samples.add(s);
    const [chrom, pos, , ref, altText = '.', , , info = '.', format = ''] = cols;
    const genes = genesOf(info);
    const gtIndex = format.split(':').indexOf('GT');
    altText.split(',').forEach((alt, i) => {
      if (NOT_VARIANTS.has(alt)) return;
      const id = `${chrom}-${pos}-${ref}-${alt}`;
      e.variants.add(id);
      for (const g of genes) {
        e.genes.add(g);
        e.inGene.add(`${id}>${g}`);
      }
      if (gtIndex < 0) return;
      sampleNames.forEach((sample, s) => {
        const gt = (cols[9 + s] ?? '').split(':')[gtIndex] ?? '.';
        if (gt.split(/[/|]/).includes(String(i + 1))) e.carriedBy.add(`${id}>${sample}`);
      });
    });
  }
  return e;
}

/** Only the annotations used by the files these tests read: BCSQ (2nd field), GENEINFO and GENE. */
function genesOf(info: string): string[] {
  const out = new Set<string>();
  for (const entry of info.split(';')) {
    const [key, value = ''] = entry.split('=');
    let symbols: string[] = [];
    if (key === 'BCSQ') symbols = value.split(',').map((a) => a.split('|')[1] ?? '');
    else if (key === 'GENEINFO') symbols = value.split('|').map((p) => p.split(':')[0] ?? '');
    else if (key === 'GENE') symbols = value.split(',');
    for (const s of symbols.flatMap((x) => x.split('&'))) if (s !== '' && s !== '.') out.add(s);
  }
  return [...out];
}

/** The store counts a VCF must leave (see countStores in kafka.ts): every key exactly once. */
export function expectedCounts(e: Expected) {
  return {
    rows: e.variants.size,
    distinctIds: e.variants.size,
    variants: e.variants.size,
    genes: e.genes.size,
    samples: e.samples.size,
    inGene: e.inGene.size,
    carriedBy: e.carriedBy.size,
  };
}
