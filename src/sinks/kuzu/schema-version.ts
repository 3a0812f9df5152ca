/**
 * Which graph a Kuzu database holds, checked before the sink writes: an empty database gets schema
 * v2; a v2 graph is used as is; a v1 graph (`HAS_VARIANT` from Sample to Variant) or anything else
 * is refused with what to do, since writing v2 tables beside it would mix two layouts.
 */
import {
  GRAPH_DDL,
  READ_SCHEMA_VERSION,
  SCHEMA_NAME,
  SCHEMA_VERSION,
  V2_TABLES,
  WRITE_SCHEMA_VERSION,
} from './graph-schema.ts';
import type { KuzuStore } from './kuzu-store.ts';

export class GraphSchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GraphSchemaError';
  }
}

export async function tableNames(store: KuzuStore): Promise<string[]> {
  const rows = await store.run('CALL show_tables() RETURN name');
  return rows.map((r) => String(r.name)).sort();
}

/**
 * The schema version of the graph at `store`: 0 when it holds no graph yet (empty, or the tables
 * of a first start that stopped before recording its version), else the recorded version; a
 * GraphSchemaError when it holds a v1 graph or tables varstream did not create.
 */
export async function graphSchemaVersion(store: KuzuStore): Promise<number> {
  const names = await tableNames(store);
  if (names.length === 0) return 0;
  if (names.includes('HAS_VARIANT') || names.includes('Variant')) {
    throw new GraphSchemaError(
      `Kuzu database ${store.path} holds a schema v1 graph (Sample-[HAS_VARIANT]->Variant), which ` +
        'this varstream does not write: that layout cannot hold a genome (README, "Graph data model"). ' +
        'Point VARSTREAM_KUZU_PATH at a new path and consume the variants topic again with a new ' +
        'VARSTREAM_GROUP_ID, or move the old database aside.',
    );
  }
  const foreign = names.filter((n) => !V2_TABLES.has(n));
  if (foreign.length > 0) {
    throw new GraphSchemaError(
      `Kuzu database ${store.path} is not a varstream graph (unknown tables: ${foreign.join(', ')}); ` +
        'point VARSTREAM_KUZU_PATH at a new path or at a graph varstream wrote.',
    );
  }
  if (!names.includes('GraphSchema')) return 0;
  const rows = await store.run(READ_SCHEMA_VERSION);
  const version = Number(rows.find((r) => r.name === SCHEMA_NAME)?.version ?? 0);
  if (version !== 0 && version !== SCHEMA_VERSION) {
    throw new GraphSchemaError(
      `Kuzu database ${store.path} holds a schema v${version} graph; this varstream reads and writes v${SCHEMA_VERSION}.`,
    );
  }
  return version;
}

/** Creates schema v2 where there is no graph yet, or checks the one there; throws GraphSchemaError. */
export async function ensureGraphSchema(store: KuzuStore): Promise<void> {
  if ((await graphSchemaVersion(store)) === SCHEMA_VERSION) return;
  for (const ddl of GRAPH_DDL) await store.run(ddl);
  await store.run(WRITE_SCHEMA_VERSION);
}
