/**
 * Proves, on real Kuzu databases: a database of graph schema v1 (Sample-[HAS_VARIANT]->Variant)
 * or with tables varstream did not create is refused at start, naming what to do, by the sink and
 * by `varstream consume` (exit 1, before it joins a group); an empty one gets schema v2 and its
 * version; a first start that stopped half way through creating the schema is finished next time.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SinkError } from '../../src/core/sink.ts';
import { GRAPH_DDL, VARIANT_TABLES } from '../../src/sinks/kuzu/graph-schema.ts';
import { KuzuGraphSink } from '../../src/sinks/kuzu/graph-sink.ts';
import { KuzuStore } from '../../src/sinks/kuzu/kuzu-store.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const POOL = 64 * 1024 * 1024;

const V1_DDL = [
  'CREATE NODE TABLE Variant(id STRING PRIMARY KEY, chrom STRING, pos INT64, ref STRING, alt STRING, rsid STRING, qual DOUBLE)',
  'CREATE NODE TABLE Gene(symbol STRING PRIMARY KEY)',
  'CREATE NODE TABLE Sample(id STRING PRIMARY KEY)',
  'CREATE REL TABLE IN_GENE(FROM Variant TO Gene)',
  'CREATE REL TABLE HAS_VARIANT(FROM Sample TO Variant, gt STRING, zygosity STRING, dp INT64, gq INT64)',
  'CREATE NODE TABLE KafkaOffset(id STRING PRIMARY KEY, next_offset INT64)',
];

async function databaseWith(ddl: readonly string[]): Promise<string> {
  const path = join(mkdtempSync(join(tmpdir(), 'kuzu-schema-')), 'graph.kuzu');
  const store = new KuzuStore(path, POOL);
  await store.open();
  for (const statement of ddl) await store.run(statement);
  await store.close();
  return path;
}

async function startError(path: string): Promise<SinkError> {
  const sink = new KuzuGraphSink(new KuzuStore(path, POOL));
  try {
    await sink.start();
  } catch (error) {
    assert.ok(error instanceof SinkError, String(error));
    return error;
  } finally {
    await sink.close();
  }
  assert.fail('the sink started');
}

test('a schema v1 graph is refused, saying why and what to do', async () => {
  const error = await startError(await databaseWith(V1_DDL));
  assert.equal(error.retriable, false);
  assert.match(error.message, /schema v1 graph \(Sample-\[HAS_VARIANT\]->Variant\)/);
  assert.match(error.message, /VARSTREAM_KUZU_PATH/);
});

test('a database with tables varstream did not create is refused', async () => {
  const error = await startError(await databaseWith(['CREATE NODE TABLE Person(name STRING PRIMARY KEY)']));
  assert.match(error.message, /not a varstream graph \(unknown tables: Person\)/);
});

test('an empty database gets schema v2; a half-created one is completed', async () => {
  // The first three statements only, as a start killed while creating the schema leaves it.
  const path = await databaseWith(GRAPH_DDL.slice(0, 3));
  const sink = new KuzuGraphSink(new KuzuStore(path, POOL));
  await sink.start();
  await sink.close();
  const store = new KuzuStore(path, POOL, true);
  await store.open();
  try {
    const tables = (await store.run('CALL show_tables() RETURN name')).map((r) => String(r.name));
    for (const t of [...VARIANT_TABLES, 'CARRIED_BY', 'IN_GENE', 'Sample', 'Gene', 'KafkaOffset'])
      assert.ok(tables.includes(t), `${t} created`);
    assert.deepEqual(await store.run('MATCH (m:GraphSchema) RETURN m.name AS name, m.version AS v'), [
      { name: 'varstream', v: 2 },
    ]);
  } finally {
    await store.close();
  }
});

test('varstream consume on a v1 graph exits 1 at start with the message', async () => {
  const path = await databaseWith(V1_DDL);
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'consume'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      ...process.env,
      VARSTREAM_PIPELINES: 'variants',
      VARSTREAM_VARIANT_SINKS: 'kuzu',
      VARSTREAM_KUZU_PATH: path,
      VARSTREAM_HTTP_PORT: '0',
      // Unreachable on purpose: the refusal must come before any Kafka connection is needed.
      KAFKA_BROKERS: '127.0.0.1:9',
      LOG_LEVEL: 'silent',
    },
  });
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, /schema v1 graph/);
});
