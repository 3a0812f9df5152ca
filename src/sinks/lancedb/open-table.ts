/**
 * Opens a LanceDB table, creating it (with its unenforced primary key) when missing. Concurrent
 * merge-inserts on overlapping keys duplicate rows without that key (FIELD-NOTES.md).
 */
import * as lancedb from '@lancedb/lancedb';
import type { Schema } from 'apache-arrow';

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
): Promise<OpenedTable> {
  const connection = await lancedb.connect(uri);
  let table: lancedb.Table;
  if ((await connection.tableNames()).includes(name)) {
    table = await connection.openTable(name);
  } else {
    table = await connection.createEmptyTable(name, await schemaFor(undefined), { existOk: true });
    await table.setUnenforcedPrimaryKey(primaryKey);
  }
  const schema = await schemaFor((await table.schema()) as unknown as Schema);
  return {
    table,
    schema,
    close() {
      table.close();
      connection.close();
    },
  };
}
