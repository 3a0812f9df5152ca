/**
 * Proves, on the real broker and a real LanceDB: N embeddings in each encoding land as exactly N
 * rows with bit-identical vectors; redelivery (a second group re-reading everything) leaves N; a
 * mix of good and bad embeddings dead-letters exactly the bad ones, each with its code; one Arrow
 * message of 10,000 embeddings lands as 10,000 rows; `query similar` finds a stored vector first
 * at distance ~0, joined to its variant, and `--gene` restricts through the Kuzu graph.
 */

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import * as lancedb from '@lancedb/lancedb';
import type { Config } from '../../src/config/index.ts';
import { kafkaPublishers, TopicPublisher } from '../../src/consumers/publisher.ts';
import { ensureTopics } from '../../src/consumers/topics.ts';
import { DeadLetterCode } from '../../src/contract/errors.ts';
import {
  EMBEDDING_ENCODINGS,
  encodeArrow,
  encodeFloat32,
  encodeJson,
} from '../../src/producer/embedding-encoding.ts';
import { produceEmbeddings } from '../../src/producer/produce-embeddings.ts';
import { produceVcf } from '../../src/producer/produce-vcf.ts';
import { EmbeddingGenerator } from '../../src/producer/synthetic-embeddings.ts';
import { writeSyntheticVcf } from '../../src/producer/synthetic-vcf.ts';
import { loadVariantRefs } from '../../src/producer/variant-refs.ts';
import { querySimilar } from '../../src/query/similar.ts';
import { queryVariants } from '../../src/query/variants.ts';
import {
  ensureBroker,
  pipelinesConsumer,
  readTopic,
  testConfig,
  testKafka,
  waitUntilCaughtUp,
} from '../helpers/kafka.ts';

const bits = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');

before(() => {
  ensureBroker();
});

/** Runs the configured pipelines until the group has committed the end of the embeddings topic. */
async function consumeEmbeddings(config: Config): Promise<void> {
  const consumer = pipelinesConsumer(config);
  await consumer.start();
  await waitUntilCaughtUp(testKafka(), config, 180_000, config.topics.embeddings);
  assert.equal(await consumer.stop(), true, 'clean stop');
}

/** id → float32 bits (hex) of every row of the embeddings table, and the row count. */
async function readEmbeddings(config: Config): Promise<{ rows: number; vectors: Map<string, string> }> {
  const db = await lancedb.connect(config.lancedb.uri);
  const table = await db.openTable(config.lancedb.embeddingsTable);
  try {
    const vectors = new Map<string, string>();
    for await (const batch of table.query().select(['id', 'vector'])) {
      const ids = batch.getChild('id');
      const column = batch.getChild('vector');
      assert.ok(ids && column, 'id and vector columns');
      for (let i = 0; i < batch.numRows; i++)
        vectors.set(String(ids.get(i)), bits((column.get(i) as { toArray(): Float32Array }).toArray()));
    }
    return { rows: await table.countRows(), vectors };
  } finally {
    table.close();
    db.close();
  }
}

describe('embeddings land exactly once, bit for bit, in every encoding', () => {
  const N = 300;
  const DIM = 1536;
  for (const encoding of EMBEDDING_ENCODINGS) {
    test(`${encoding}: ${N} × ${DIM}-d embeddings land as ${N} rows; redelivery leaves ${N}`, async () => {
      const config = testConfig({ pipelines: ['embeddings'] });
      const kafka = testKafka();
      await ensureTopics(kafka, config);
      const seed = 11;
      await produceEmbeddings(kafkaPublishers(kafka), {
        topic: config.topics.embeddings,
        count: N,
        dim: DIM,
        encoding,
        batch: encoding === 'arrow' ? 64 : undefined,
        seed,
      });
      await consumeEmbeddings(config);

      // The producer's vectors, regenerated: same seed, same order.
      const generator = new EmbeddingGenerator({ dim: DIM, seed });
      const expected = new Map<string, string>();
      for (let i = 0; i < N; i++)
        expected.set(
          `emb-${String(i).padStart(9, '0')}`,
          bits(generator.next(new Float32Array(DIM), i % generator.clusters)),
        );
      const landed = await readEmbeddings(config);
      assert.equal(landed.rows, N);
      assert.deepEqual(landed.vectors, expected);

      const again = { ...config, kafka: { ...config.kafka, groupId: `${config.kafka.groupId}-again` } };
      await consumeEmbeddings(again);
      assert.equal((await readEmbeddings(config)).rows, N, 'redelivery does not add rows');
    });
  }
});

test('a mix of good and bad embeddings dead-letters exactly the bad ones, with their codes', async () => {
  const DIM = 8;
  const config = testConfig({ pipelines: ['embeddings'], embeddings: { dim: DIM } });
  const kafka = testKafka();
  await ensureTopics(kafka, config);
  const v = () => new Float32Array(DIM).fill(0.5);
  const nan = v();
  nan[3] = Number.NaN;
  const arrowOk = encodeArrow(['good-arrow-1', 'good-arrow-2'], new Float32Array(2 * DIM).fill(0.1), DIM);
  const messages: {
    name: string;
    code?: string;
    message: { key: string | null; value: Buffer; headers: Record<string, string> };
  }[] = [
    { name: 'good-json', message: encodeJson({ id: 'good-json', vector: v() }) },
    { name: 'good-f32', message: encodeFloat32({ id: 'good-f32', vector: v() }) },
    { name: 'good-arrow', message: arrowOk },
    {
      name: 'short',
      code: DeadLetterCode.DIMENSION_MISMATCH,
      message: encodeJson({ id: 'short', vector: new Float32Array(DIM - 1) }),
    },
    {
      name: 'nan',
      code: DeadLetterCode.NON_FINITE_VECTOR,
      message: encodeFloat32({ id: 'nan', vector: nan }),
    },
    {
      name: 'empty-id',
      code: DeadLetterCode.MISSING_FIELD,
      message: { ...encodeJson({ id: '', vector: v() }), key: 'x' },
    },
    {
      name: 'no-key',
      code: DeadLetterCode.MISSING_FIELD,
      message: { ...encodeFloat32({ id: 'k', vector: v() }), key: null },
    },
    {
      name: 'truncated',
      code: DeadLetterCode.INVALID_ARROW,
      message: { ...arrowOk, key: 'truncated', value: arrowOk.value.subarray(0, 100) },
    },
    {
      name: 'wrong-type',
      code: DeadLetterCode.UNSUPPORTED_CONTENT_TYPE,
      message: { ...encodeJson({ id: 'wt', vector: v() }), headers: { 'content-type': 'text/plain' } },
    },
    {
      name: 'not-json',
      code: DeadLetterCode.INVALID_JSON,
      message: { key: 'nj', value: Buffer.from('{"id":'), headers: {} },
    },
  ];
  const publisher = new TopicPublisher(kafka, config.topics.embeddings);
  await publisher.connect();
  for (const { name, message } of messages)
    await publisher.publish({ ...message, headers: { ...message.headers, 'test-name': name } });
  await publisher.close();

  await consumeEmbeddings(config);
  const landed = await readEmbeddings(config);
  assert.deepEqual([...landed.vectors.keys()].sort(), [
    'good-arrow-1',
    'good-arrow-2',
    'good-f32',
    'good-json',
  ]);

  const bad = messages.filter((m) => m.code);
  const letters = await readTopic(kafka, config.topics.deadLetter, bad.length);
  const codes = Object.fromEntries(
    letters.map((l) => [String(l.headers?.['test-name']), String(l.headers?.['dlq-error-code'])]),
  );
  assert.deepEqual(codes, Object.fromEntries(bad.map((m) => [m.name, m.code])));
});

test('one Arrow message of 10,000 embeddings lands as 10,000 rows', async () => {
  const DIM = 128;
  const n = 10_000;
  const config = testConfig({ pipelines: ['embeddings'], embeddings: { dim: DIM } });
  const kafka = testKafka();
  await ensureTopics(kafka, config);
  const result = await produceEmbeddings(kafkaPublishers(kafka), {
    topic: config.topics.embeddings,
    count: n,
    dim: DIM,
    encoding: 'arrow',
    batch: n,
  });
  assert.equal(result.messages, 1);
  await consumeEmbeddings(config);
  const landed = await readEmbeddings(config);
  assert.equal(landed.rows, n);
  assert.equal(landed.vectors.size, n);
});

test('query similar: a stored vector comes back first at distance ~0; --gene restricts through the graph', async () => {
  const DIM = 64;
  const config = testConfig({ embeddings: { dim: DIM } });
  const kafka = testKafka();
  await ensureTopics(kafka, config);
  const vcf = join(mkdtempSync(join(tmpdir(), 'varstream-q-')), 'synthetic.vcf');
  await writeSyntheticVcf(vcf, { records: 400, samples: 5, seed: 3 });
  const produced = await produceVcf(kafkaPublishers(kafka), vcf, { topic: config.topics.variants });
  const variantConsumer = pipelinesConsumer({ ...config, pipelines: ['variants'] });
  await variantConsumer.start();
  await waitUntilCaughtUp(kafka, config, 120_000);
  assert.equal(await variantConsumer.stop(), true);
  assert.ok(produced.records === 400);

  const refs = await loadVariantRefs(config.lancedb.uri, config.lancedb.variantsTable, 300);
  assert.equal(refs.length, 300);
  await produceEmbeddings(kafkaPublishers(kafka), {
    topic: config.topics.embeddings,
    count: 300,
    dim: DIM,
    encoding: 'f32',
    variants: refs,
  });
  await consumeEmbeddings({ ...config, pipelines: ['embeddings'] });

  const withGene = refs.find((r) => r.gene !== null);
  assert.ok(withGene, 'the synthetic VCF annotates genes');
  const hits = await querySimilar(config, { id: withGene.variantId, k: 5 });
  assert.equal(hits.length, 5);
  assert.equal(hits[0]?.id, withGene.variantId);
  assert.ok(Math.abs(hits[0]?.distance ?? 1) < 1e-5, `distance to itself is ${hits[0]?.distance}`);
  assert.equal(hits[0]?.variant?.ref !== undefined, true, 'joined to its variant');
  assert.ok(hits[0]?.variant?.genes.includes(withGene.gene as string));

  const gene = withGene.gene as string;
  const inGene = refs.filter((r) => r.gene === gene).length;
  const restricted = await querySimilar(config, { id: withGene.variantId, k: 50, gene });
  assert.ok(restricted.length > 0 && restricted.length <= Math.max(inGene, 50));
  for (const hit of restricted) assert.ok(hit.variant?.genes.includes(gene), `${hit.id} is in ${gene}`);
  assert.equal(restricted[0]?.id, withGene.variantId);
  assert.deepEqual(await querySimilar(config, { id: withGene.variantId, k: 5, gene: 'NO_SUCH_GENE' }), []);
  // A vector of the wrong size is refused in plain words, before LanceDB sees it.
  await assert.rejects(
    querySimilar(config, { vector: new Float32Array(3), k: 5 }),
    new RegExp(
      `^QueryError: the query vector has 3 values, but the embeddings in table "${config.lancedb.embeddingsTable}" have ${DIM}: give a vector of ${DIM} float32 values$`,
    ),
  );
  // query variants: the ids to ask about, of a gene, from the variants table.
  const ofGene = await queryVariants(config, { gene, limit: 1000 });
  assert.ok(ofGene.length > 0 && ofGene.every((v) => v.genes.includes(gene)));
  assert.ok(ofGene.some((v) => v.variantId === withGene.variantId));
  assert.deepEqual(
    ofGene.map((v) => v.pos),
    [...ofGene.map((v) => v.pos)].sort((a, b) => a - b),
    'in position order',
  );
  assert.equal((await queryVariants(config, { limit: 7 })).length, 7);
  assert.deepEqual(
    await queryVariants(config, { gene: "NO'SUCH", limit: 5 }),
    [],
    'a quote is escaped, not a filter error',
  );
});
