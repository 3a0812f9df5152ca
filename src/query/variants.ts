/**
 * `query variants`: variant ids to ask about, from the LanceDB variants table (readable while a
 * consumer writes, unlike the graph): optionally those of a gene or a chromosome, in position
 * order. Values reach the filter only as escaped SQL string literals.
 */
import * as lancedb from '@lancedb/lancedb';
import type { Config } from '../config/schema.ts';
import { QueryError, sqlString } from './similar.ts';
import { textTable } from './text-table.ts';

export interface VariantRow {
  variantId: string;
  chrom: string;
  pos: number;
  genes: string[];
  sampleCount: number | null;
}

export async function queryVariants(
  config: Config,
  options: { gene?: string; chrom?: string; limit: number },
): Promise<VariantRow[]> {
  const connection = await lancedb.connect(config.lancedb.uri);
  try {
    const name = config.lancedb.variantsTable;
    if (!(await connection.tableNames()).includes(name))
      throw new QueryError(
        `no table "${name}" at ${config.lancedb.uri} (VARSTREAM_LANCEDB_URI): consume some variants first`,
      );
    const table = await connection.openTable(name);
    try {
      const filters = [
        options.gene !== undefined ? `array_has(genes, ${sqlString(options.gene)})` : undefined,
        options.chrom !== undefined ? `chrom = ${sqlString(options.chrom)}` : undefined,
      ].filter((f) => f !== undefined);
      let query = table.query().select(['variant_id', 'chrom', 'pos', 'genes', 'sample_count']);
      if (filters.length > 0) query = query.where(filters.join(' AND '));
      const rows = (await query.limit(options.limit).toArray()) as Record<string, unknown>[];
      return rows
        .map((r) => {
          const genes = r.genes as { toArray(): unknown[] } | null;
          return {
            variantId: String(r.variant_id),
            chrom: String(r.chrom),
            pos: Number(r.pos),
            genes: genes ? (genes.toArray() as string[]) : [],
            sampleCount:
              r.sample_count === null || r.sample_count === undefined ? null : Number(r.sample_count),
          };
        })
        .sort(
          (a, b) => a.chrom.localeCompare(b.chrom) || a.pos - b.pos || a.variantId.localeCompare(b.variantId),
        );
    } finally {
      table.close();
    }
  } finally {
    connection.close();
  }
}

export function formatVariants(rows: VariantRow[]): string {
  if (rows.length === 0) return 'no variants';
  return textTable(
    ['variant_id', 'chrom', 'pos', 'genes', 'samples'],
    rows.map((r) => [
      r.variantId,
      r.chrom,
      String(r.pos),
      r.genes.join(','),
      r.sampleCount === null ? '' : String(r.sampleCount),
    ]),
  );
}
