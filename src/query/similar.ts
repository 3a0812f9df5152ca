/**
 * `query similar`: the nearest embeddings to a stored embedding or a given vector, joined to the
 * variants they describe (LanceDB) and, with a gene, restricted to variants `IN_GENE` that gene
 * (Kuzu). Values reach LanceDB filters only as escaped SQL string literals and Kuzu only as
 * parameters.
 */
import * as lancedb from '@lancedb/lancedb';
import type { Config } from '../config/schema.ts';
import { geneVariants } from '../sinks/kuzu/graph-queries.ts';
import { KuzuStore } from '../sinks/kuzu/kuzu-store.ts';
import { textTable } from './text-table.ts';

export interface SimilarQuery {
  id?: string;
  vector?: Float32Array;
  k: number;
  gene?: string;
}

export interface VariantSummary {
  chrom: string;
  pos: number;
  ref: string;
  alt: string;
  genes: string[];
}

export interface SimilarHit {
  rank: number;
  id: string;
  distance: number;
  model: string | null;
  sourceKind: string | null;
  sourceId: string | null;
  text: string | null;
  variant: VariantSummary | null;
}

export class QueryError extends Error {
  override name = 'QueryError';
}

export async function querySimilar(config: Config, query: SimilarQuery): Promise<SimilarHit[]> {
  const connection = await lancedb.connect(config.lancedb.uri);
  try {
    const tables = await connection.tableNames();
    const name = config.lancedb.embeddingsTable;
    if (!tables.includes(name))
      throw new QueryError(`no table "${name}" at ${config.lancedb.uri}: consume some embeddings first`);
    const table = await connection.openTable(name);
    const vector = query.vector ?? (await storedVector(table, query.id));
    const dimension = await vectorDimension(table);
    if (dimension !== undefined && vector.length !== dimension)
      throw new QueryError(
        `the query vector has ${vector.length} values, but the embeddings in table "${name}" have ${dimension}: give a vector of ${dimension} float32 values`,
      );
    let filter: string | undefined;
    if (query.gene !== undefined) {
      const variantIds = await variantsInGene(config, query.gene);
      if (variantIds.length === 0) return [];
      filter = `source_id IN (${variantIds.map(sqlString).join(', ')})`;
    }
    let search = table
      .vectorSearch(Array.from(vector))
      .distanceType(config.embeddings.distance)
      .select(['id', 'model', 'source_kind', 'source_id', 'text', '_distance'])
      .limit(query.k);
    if (filter) search = search.where(filter);
    const rows = (await search.toArray()) as Array<Record<string, unknown>>;
    const variants = tables.includes(config.lancedb.variantsTable)
      ? await variantSummaries(
          await connection.openTable(config.lancedb.variantsTable),
          rows
            .filter((r) => r.source_kind === 'variant' && typeof r.source_id === 'string')
            .map((r) => r.source_id as string),
        )
      : new Map<string, VariantSummary>();
    return rows.map((r, i) => ({
      rank: i + 1,
      id: String(r.id),
      distance: Number(r._distance),
      model: (r.model as string | null) ?? null,
      sourceKind: (r.source_kind as string | null) ?? null,
      sourceId: (r.source_id as string | null) ?? null,
      text: (r.text as string | null) ?? null,
      variant: typeof r.source_id === 'string' ? (variants.get(r.source_id) ?? null) : null,
    }));
  } finally {
    connection.close();
  }
}

/** The table's vector dimension (its `vector` column's FixedSizeList size). */
async function vectorDimension(table: lancedb.Table): Promise<number | undefined> {
  const field = (await table.schema()).fields.find((f) => f.name === 'vector');
  const size = (field?.type as { listSize?: number } | undefined)?.listSize;
  return typeof size === 'number' ? size : undefined;
}

async function storedVector(table: lancedb.Table, id: string | undefined): Promise<Float32Array> {
  if (id === undefined) throw new QueryError('give --id or --vector-file');
  const rows = await table
    .query()
    .where(`id = ${sqlString(id)}`)
    .select(['vector'])
    .limit(1)
    .toArray();
  const vector = rows[0]?.vector as { toArray(): Float32Array } | undefined;
  if (!vector) throw new QueryError(`no embedding with id ${JSON.stringify(id)}`);
  return vector.toArray();
}

async function variantsInGene(config: Config, gene: string): Promise<string[]> {
  const store = new KuzuStore(config.kuzu.path, 64 * 1024 ** 2, true);
  try {
    await store.open();
  } catch (error) {
    throw new QueryError(
      `cannot open the graph at ${config.kuzu.path} read-only (${(error as Error).message}); Kuzu allows no reader beside a running writer, so stop the graph consumer or query without --gene`,
    );
  }
  try {
    return (await geneVariants(store, gene)).map((r) => String(r.variant));
  } finally {
    await store.close();
  }
}

async function variantSummaries(table: lancedb.Table, ids: string[]): Promise<Map<string, VariantSummary>> {
  const out = new Map<string, VariantSummary>();
  if (ids.length === 0) return out;
  const rows = await table
    .query()
    .where(`variant_id IN (${[...new Set(ids)].map(sqlString).join(', ')})`)
    .select(['variant_id', 'chrom', 'pos', 'ref', 'alt', 'genes'])
    .toArray();
  for (const r of rows) {
    const genes = r.genes as { toArray(): unknown[] } | null;
    out.set(String(r.variant_id), {
      chrom: String(r.chrom),
      pos: Number(r.pos),
      ref: String(r.ref),
      alt: String(r.alt),
      genes: genes ? (genes.toArray() as string[]) : [],
    });
  }
  return out;
}

/** A SQL string literal for a LanceDB filter: quotes doubled, control characters refused. */
export function sqlString(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
  if (/[\u0000-\u001f]/.test(value))
    throw new QueryError(`refusing a value with control characters: ${JSON.stringify(value)}`);
  return `'${value.replaceAll("'", "''")}'`;
}

export function formatHits(hits: SimilarHit[]): string {
  if (hits.length === 0) return 'no matches';
  const header = ['#', 'id', 'distance', 'variant', 'genes', 'text'];
  const rows = hits.map((h) => [
    String(h.rank),
    h.id,
    h.distance.toFixed(4),
    h.variant ? `${h.variant.chrom}:${h.variant.pos} ${h.variant.ref}>${h.variant.alt}` : (h.sourceId ?? ''),
    h.variant?.genes.join(',') ?? '',
    truncate(h.text ?? '', 40),
  ]);
  return textTable(header, rows);
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
