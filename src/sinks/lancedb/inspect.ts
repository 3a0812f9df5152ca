/** What the LanceDB tables hold (`varstream status`): rows, version, indices; never writes. */
import { existsSync } from 'node:fs';
import * as lancedb from '@lancedb/lancedb';

export type TableStats =
  | {
      table: string;
      state: 'open';
      rows: number;
      version: number;
      indices: { name: string; type: string; columns: string[] }[];
    }
  | { table: string; state: 'missing' };

export async function lanceTableStats(uri: string, tables: readonly string[]): Promise<TableStats[]> {
  const local = !/^[a-z][a-z0-9+.-]*:\/\//i.test(uri);
  if (local && !existsSync(uri)) return tables.map((table) => ({ table, state: 'missing' }));
  const connection = await lancedb.connect(uri);
  try {
    const names = new Set(await connection.tableNames());
    const out: TableStats[] = [];
    for (const name of tables) {
      if (!names.has(name)) {
        out.push({ table: name, state: 'missing' });
        continue;
      }
      const table = await connection.openTable(name);
      try {
        out.push({
          table: name,
          state: 'open',
          rows: await table.countRows(),
          version: await table.version(),
          indices: (await table.listIndices()).map((i) => ({
            name: i.name,
            type: i.indexType,
            columns: i.columns,
          })),
        });
      } finally {
        table.close();
      }
    }
    return out;
  } finally {
    connection.close();
  }
}
