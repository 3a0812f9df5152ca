/** What the graph holds (`varstream status`): node and edge counts, read-only. */
import { existsSync } from 'node:fs';
import { VARIANT_TABLES } from './graph-schema.ts';
import { KuzuStore } from './kuzu-store.ts';

export type GraphCounts =
  | {
      state: 'open';
      variants: number;
      genes: number;
      samples: number;
      carriedBy: number;
      inGene: number;
      /** Next offset applied per `topic:partition`. */
      offsets: Record<string, number>;
    }
  | { state: 'missing' | 'locked' | 'unreadable'; reason: string };

export async function graphCounts(path: string): Promise<GraphCounts> {
  if (!existsSync(path)) return { state: 'missing', reason: `no graph at ${path}` };
  const store = new KuzuStore(path, 64 * 1024 ** 2, true);
  try {
    await store.open();
  } catch (error) {
    const message = (error as Error).message;
    return /lock/i.test(message)
      ? { state: 'locked', reason: 'locked by a running writer (Kuzu allows no reader beside it)' }
      : { state: 'unreadable', reason: message };
  }
  try {
    const count = async (statement: string) => Number((await store.run(statement))[0]?.n ?? 0);
    let variants = 0;
    for (const table of VARIANT_TABLES) variants += await count(`MATCH (v:${table}) RETURN count(*) AS n`);
    const offsets: Record<string, number> = {};
    for (const row of await store.run('MATCH (o:KafkaOffset) RETURN o.id AS id, o.next_offset AS next'))
      offsets[String(row.id)] = Number(row.next);
    return {
      state: 'open',
      variants,
      genes: await count('MATCH (g:Gene) RETURN count(*) AS n'),
      samples: await count('MATCH (s:Sample) RETURN count(*) AS n'),
      carriedBy: await count('MATCH ()-[e:CARRIED_BY]->() RETURN count(*) AS n'),
      inGene: await count('MATCH ()-[e:IN_GENE]->() RETURN count(*) AS n'),
      offsets,
    };
  } catch (error) {
    return { state: 'unreadable', reason: (error as Error).message };
  } finally {
    await store.close();
  }
}
