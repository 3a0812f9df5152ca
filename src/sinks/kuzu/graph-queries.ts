/**
 * The graph's read side: the questions the data model answers (README, "Graph data model"), each
 * one parameterised statement, and the node and edge counts. Used by `varstream query graph`, the
 * demo's summary, the tests and bench:graph.
 */
import { VARIANT_TABLES } from './graph-schema.ts';
import type { KuzuStore, Row } from './kuzu-store.ts';
import { variantKey } from './variant-key.ts';

export const GRAPH_QUERIES = {
  /** The samples carrying a variant, with their calls: a primary-key lookup in each variant table. */
  carriers:
    'MATCH (v {key: UUID($key)})-[c:CARRIED_BY]->(s:Sample) ' +
    'RETURN s.id AS sample, c.gt AS gt, c.zygosity AS zygosity, c.dp AS dp, c.gq AS gq ORDER BY sample',
  /** A sample's variants in a gene: from the gene (a lookup) through its variants to the sample. */
  sampleVariantsInGene:
    'MATCH (g:Gene {symbol: $gene})<-[:IN_GENE]-(v)-[c:CARRIED_BY]->(s:Sample {id: $sample}) ' +
    'RETURN v.id AS variant, v.chrom AS chrom, v.pos AS pos, c.gt AS gt, c.zygosity AS zygosity ORDER BY chrom, pos, variant',
  /** A gene's variants. */
  geneVariants:
    'MATCH (g:Gene {symbol: $gene})<-[:IN_GENE]-(v) ' +
    'RETURN v.id AS variant, v.chrom AS chrom, v.pos AS pos, v.rsid AS rsid ORDER BY chrom, pos, variant',
  /** A sample's variant count: kept on the Sample node by the sink, in each batch's transaction. */
  sampleVariantCount: 'MATCH (s:Sample {id: $sample}) RETURN s.variants AS variants',
} as const;

export type GraphQuery = keyof typeof GRAPH_QUERIES;

export async function carriers(store: KuzuStore, variantId: string): Promise<Row[]> {
  return store.run(GRAPH_QUERIES.carriers, { key: variantKey(variantId) });
}

export async function sampleVariantsInGene(store: KuzuStore, sample: string, gene: string): Promise<Row[]> {
  return store.run(GRAPH_QUERIES.sampleVariantsInGene, { sample, gene });
}

export async function geneVariants(store: KuzuStore, gene: string): Promise<Row[]> {
  return store.run(GRAPH_QUERIES.geneVariants, { gene });
}

/** The sample's number of CARRIED_BY edges, or undefined when there is no such sample. */
export async function sampleVariantCount(store: KuzuStore, sample: string): Promise<number | undefined> {
  const rows = await store.run(GRAPH_QUERIES.sampleVariantCount, { sample });
  return rows.length === 0 ? undefined : Number(rows[0]?.variants);
}

export interface GraphCounts {
  variants: number;
  genes: number;
  samples: number;
  inGene: number;
  carriedBy: number;
}

export async function graphCounts(store: KuzuStore): Promise<GraphCounts> {
  let variants = 0;
  for (const table of VARIANT_TABLES) variants += await store.count(`(:${table})`);
  return {
    variants,
    genes: await store.count('(:Gene)'),
    samples: await store.count('(:Sample)'),
    inGene: await store.count('()-[:IN_GENE]->()'),
    carriedBy: await store.count('()-[:CARRIED_BY]->()'),
  };
}
