/** The first `limit` variants of the LanceDB variants table: what `--source-of-variants` embeds. */
import * as lancedb from '@lancedb/lancedb';
import type { VariantRef } from './produce-embeddings.ts';

export async function loadVariantRefs(uri: string, table: string, limit: number): Promise<VariantRef[]> {
  const connection = await lancedb.connect(uri);
  try {
    if (!(await connection.tableNames()).includes(table))
      throw new Error(`no variants table "${table}" at ${uri}: consume some variants first (npm run demo)`);
    const refs: VariantRef[] = [];
    const query = (await connection.openTable(table)).query().select(['variant_id', 'genes']).limit(limit);
    for await (const batch of query) {
      const ids = batch.getChild('variant_id');
      const genes = batch.getChild('genes');
      for (let i = 0; i < batch.numRows; i++) {
        const list = genes?.get(i) as { get(j: number): string | null; length: number } | null;
        refs.push({ variantId: String(ids?.get(i)), gene: list && list.length > 0 ? list.get(0) : null });
      }
    }
    return refs;
  } finally {
    connection.close();
  }
}
