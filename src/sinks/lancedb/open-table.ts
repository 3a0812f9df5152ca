/**
 * Opens a LanceDB table, creating it (with its unenforced primary key) when missing. Concurrent
 * merge-inserts on overlapping keys duplicate rows without that key (FIELD-NOTES.md).
 *
 * The key column gets a BTREE index (created with the table, or on first open of a table that has
 * none): without it every merge-insert hash-joins the batch against a scan of the whole key column,
 * so its time and memory grow with the table (measured: RSS +90 MiB per million variant rows,
 * 47k -> 25k rows/s from 0.5M to 4M rows; with the index +40 MiB and ~30k rows/s throughout).
 * optimize() (table-upkeep.ts) folds new rows into it. The caches of every table of the process
 * live in one Session whose sizes come from the memory budget: LanceDB's own defaults are 6 GB of
 * index cache and 1 GB of metadata cache.
 */
import * as lancedb from '@lancedb/lancedb';
import type { Schema } from 'apache-arrow';
import type { Logger } from '../../core/logger.ts';
import type { UpkeepEvent, UpkeepPolicy } from './table-upkeep.ts';

export interface OpenedTable {
  table: lancedb.Table;
  schema: Schema;
  close(): void;
}

/**
 * `schemaFor(existing)` returns the schema of a table to create (existing undefined) or checks an
 * existing table's schema and returns it.
 */
export async function openLanceTable(
  uri: string,
  name: string,
  primaryKey: string,
  schemaFor: (existing: Schema | undefined) => Schema | Promise<Schema>,
  cache: LanceCacheSizes,
): Promise<OpenedTable> {
  // The session goes in the options: lancedb 0.39's connect(uri, options, session) overload
  // drops its third argument, which left LanceDB on its default 6 GB / 1 GB caches.
  const connection = await lancedb.connect(uri, { session: lanceSession(cache) });
  let table: lancedb.Table;
  if ((await connection.tableNames()).includes(name)) {
    table = await connection.openTable(name);
  } else {
    table = await connection.createEmptyTable(name, await schemaFor(undefined), { existOk: true });
    await table.setUnenforcedPrimaryKey(primaryKey);
  }
  const schema = await schemaFor((await table.schema()) as unknown as Schema);
  const indices = await table.listIndices();
  if (!indices.some((i) => i.columns.length === 1 && i.columns[0] === primaryKey))
    await table.createIndex(primaryKey, { config: lancedb.Index.btree() });
  return {
    table,
    schema,
    close() {
      table.close();
      connection.close();
    },
  };
}

/** What every LanceDB sink is given: where its table lives, the caches, upkeep and logging. */
export interface LanceTableOptions {
  uri: string;
  table: string;
  /** LanceDB cache sizes (config.lancedb). */
  cache: LanceCacheSizes;
  upkeep: UpkeepPolicy;
  logger: Logger;
  onUpkeep?: (event: UpkeepEvent) => void;
}

export interface LanceCacheSizes {
  indexCacheBytes: number;
  metadataCacheBytes: number;
}

let shared: { sizes: string; session: lancedb.Session } | undefined;

/** The process's one LanceDB session (caches shared by every table it opens). */
export function lanceSession(cache: LanceCacheSizes): lancedb.Session {
  const sizes = `${cache.indexCacheBytes}/${cache.metadataCacheBytes}`;
  if (shared?.sizes !== sizes)
    shared = {
      sizes,
      session: new lancedb.Session(BigInt(cache.indexCacheBytes), BigInt(cache.metadataCacheBytes)),
    };
  return shared.session;
}

/** Bytes the process's LanceDB caches hold now; 0 before a table is opened. */
export function lanceCacheBytes(): number {
  return shared ? Number(shared.session.sizeBytes()) : 0;
}
