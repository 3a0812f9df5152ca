/**
 * `query graph` and `query cypher`: the graph's questions (graph-queries.ts) and any read-only
 * Cypher, against the Kuzu database opened read-only (Kuzu refuses every write there). Kuzu allows
 * no reader beside a running writer, so these need the graph consumer stopped.
 */
import { existsSync } from 'node:fs';
import type { Config } from '../config/schema.ts';
import {
  carriers,
  geneVariants,
  sampleVariantCount,
  sampleVariantsInGene,
} from '../sinks/kuzu/graph-queries.ts';
import { KuzuStore, type Row } from '../sinks/kuzu/kuzu-store.ts';
import { graphSchemaVersion } from '../sinks/kuzu/schema-version.ts';
import { QueryError } from './similar.ts';
import { textTable } from './text-table.ts';

export const GRAPH_QUESTIONS = [
  'carriers',
  'sample-variants',
  'gene-variants',
  'sample-count',
  'samples',
  'genes',
] as const;
export type GraphQuestion = (typeof GRAPH_QUESTIONS)[number];

export interface GraphArgs {
  variant?: string;
  sample?: string;
  gene?: string;
  limit: number;
}

/** Opens the graph read-only, with a plain-language error when it is missing or locked. */
async function openGraph(config: Config): Promise<KuzuStore> {
  if (!existsSync(config.kuzu.path))
    throw new QueryError(
      `no graph at ${config.kuzu.path} (VARSTREAM_KUZU_PATH): consume some variants first`,
    );
  const store = new KuzuStore(config.kuzu.path, 64 * 1024 ** 2, true);
  try {
    await store.open();
  } catch (error) {
    const message = (error as Error).message;
    throw new QueryError(
      /lock/i.test(message)
        ? `the graph at ${config.kuzu.path} is locked by a running writer: Kuzu allows no reader beside it, so stop the graph consumer first`
        : `cannot open the graph at ${config.kuzu.path} read-only: ${message}`,
    );
  }
  try {
    await graphSchemaVersion(store);
  } catch (error) {
    await store.close();
    throw new QueryError((error as Error).message);
  }
  return store;
}

function need(value: string | undefined, flag: string, question: string): string {
  if (value === undefined || value === '') throw new QueryError(`${question} needs ${flag}`);
  return value;
}

export async function queryGraph(config: Config, question: GraphQuestion, a: GraphArgs): Promise<Row[]> {
  const store = await openGraph(config);
  try {
    switch (question) {
      case 'carriers':
        return await carriers(store, need(a.variant, '--variant ID', question));
      case 'sample-variants':
        return await sampleVariantsInGene(
          store,
          need(a.sample, '--sample S', question),
          need(a.gene, '--gene G', question),
        );
      case 'gene-variants':
        return await geneVariants(store, need(a.gene, '--gene G', question));
      case 'sample-count': {
        const sample = need(a.sample, '--sample S', question);
        const n = await sampleVariantCount(store, sample);
        if (n === undefined)
          throw new QueryError(
            `no sample ${JSON.stringify(sample)} in the graph (varstream query graph samples lists them)`,
          );
        return [{ sample, variants: n }];
      }
      case 'samples':
        return await store.run(
          'MATCH (s:Sample) RETURN s.id AS sample, s.variants AS variants ORDER BY variants DESC, sample LIMIT $limit',
          { limit: a.limit },
        );
      case 'genes':
        return await store.run(
          'MATCH (g:Gene)<-[:IN_GENE]-(v) RETURN g.symbol AS gene, count(*) AS variants ORDER BY variants DESC, gene LIMIT $limit',
          { limit: a.limit },
        );
    }
  } finally {
    await store.close();
  }
}

/** Runs one Cypher statement on the graph opened read-only; `params` bind `$name` values. */
export async function queryCypher(
  config: Config,
  statement: string,
  params: Record<string, unknown>,
): Promise<Row[]> {
  const store = await openGraph(config);
  try {
    return await store.run(
      statement,
      Object.keys(params).length > 0 ? (params as Parameters<KuzuStore['run']>[1]) : undefined,
    );
  } catch (error) {
    throw new QueryError(`Kuzu refused the statement: ${(error as Error).message}`);
  } finally {
    await store.close();
  }
}

/** `name=value` → a parameter; the value as JSON when it parses (numbers, booleans, lists), else text. */
export function cypherParam(text: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new QueryError(`--param expects name=value, got ${JSON.stringify(text)}`);
  const raw = text.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // plain text
  }
  return { ...previous, [text.slice(0, eq)]: value };
}

/** Rows as an aligned text table (columns in the order of the first row). */
export function formatRows(rows: Row[]): string {
  if (rows.length === 0) return '(no rows)';
  const header = Object.keys(rows[0] as Row);
  const cell = (v: unknown) =>
    v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return textTable(
    header,
    rows.map((r) => header.map((h) => cell(r[h]))),
  );
}
