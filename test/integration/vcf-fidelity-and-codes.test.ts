/**
 * Proves, through `produce vcf` and the real broker into both stores: a VCF 4.4 file's genotypes
 * with a leading phase indicator (`|0|1`, `/0/1`, haploid `|1`) land as calls; an empty ALT allele
 * (`A,,T`) is a missing one, not a variant; a POS 0 record (a telomere) lands; a gene symbol with a
 * byte order mark keeps it. And that each contract fault is dead-lettered with the code the README
 * gives: empty `chrom` MISSING_FIELD, a GT naming an allele the site lacks and a DP beyond 2^53
 * INVALID_FIELD, a null vector element NON_FINITE_VECTOR, an Arrow stream declaring more rows
 * than its buffer holds INVALID_ARROW (each was stored, or given another code, before).
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as lancedb from '@lancedb/lancedb';
import { shortArrow } from '../../src/chaos/hostile.ts';
import { createKafka } from '../../src/consumers/kafka-client.ts';
import { kafkaPublishers } from '../../src/consumers/publisher.ts';
import { ensureTopics } from '../../src/consumers/topics.ts';
import { produceVcf } from '../../src/producer/produce-vcf.ts';
import { KuzuStore } from '../../src/sinks/kuzu/kuzu-store.ts';
import {
  countStores,
  ensureBroker,
  pipelinesConsumer,
  silentLogger,
  testConfig,
  testKafka,
  uniqueName,
  waitUntilCaughtUp,
} from '../helpers/kafka.ts';
import { expectedCounts, expectedFromVcf } from '../helpers/vcf-expectations.ts';

const DIM = 4;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const VCF_44 = [
  '##fileformat=VCFv4.4',
  '##contig=<ID=chr1,length=248956422>',
  '##contig=<ID=chrX,length=156040895>',
  '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
  '##INFO=<ID=GENE,Number=.,Type=String,Description="Gene">',
  '##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">',
  '##INFO=<ID=RD,Number=R,Type=Integer,Description="Reads per allele">',
  '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tA\tB',
  'chr1\t0\t.\tN\t<DEL>\t.\tPASS\t.\tGT\t|0|1\t/0/0',
  'chr1\t100\trs1\tC\tA,,T\t50\tPASS\tGENE=\ufeffx;AF=0.1,.,0.3;RD=9,1,0,3\tGT\t/0/3\t|1|1',
  'chr1\t200\t.\tG\tT\t50\tPASS\t.\tGT\t/0/1\t|0/1',
  'chrX\t300\t.\tA\tC\t50\tPASS\t.\tGT\t|1\t|0',
];

before(() => {
  ensureBroker();
});

test('VCF 4.4 genotypes, empty ALT alleles, POS 0 and a BOM in a gene land as the file says', async () => {
  const config = testConfig({ kafka: { topicPartitions: 1 } });
  const path = join(config.lancedb.uri, '..', 'v44.vcf');
  writeFileSync(path, `${VCF_44.join('\n')}\n`);
  const expected = await expectedFromVcf(path);
  const kafka = createKafka(config, silentLogger);
  await ensureTopics(kafka, config);
  assert.equal(
    (await produceVcf(kafkaPublishers(kafka), path, { topic: config.topics.variants })).records,
    4,
  );
  const consumer = pipelinesConsumer(config);
  await consumer.start();
  await waitUntilCaughtUp(testKafka(), config);
  await consumer.stop();
  assert.deepEqual(consumer.stats.deadLetters, {}, 'no record lost');
  assert.deepEqual(await countStores(config), expectedCounts(expected));
  // Every one of these calls was dead-lettered before (a leading phase was "not a genotype").
  assert.equal(expected.carriedBy.size, 6);
  assert.ok(!expected.variants.has('chr1-100-C-'), 'the empty allele is no variant');
  const store = new KuzuStore(config.kuzu.path, 64 * 1024 * 1024, true);
  await store.open();
  try {
    const genes = await store.run('MATCH (g:Gene) RETURN g.symbol AS s');
    assert.deepEqual(genes, [{ s: '\ufeffx' }], 'the byte order mark stays part of the symbol');
    const telomere = await store.run("MATCH (v) WHERE v.id = 'chr1-0-N-<DEL>' RETURN v.pos AS pos");
    assert.deepEqual(telomere, [{ pos: 0 }]);
  } finally {
    await store.close();
  }
  const db = await lancedb.connect(config.lancedb.uri);
  try {
    const rows = await (await db.openTable(config.lancedb.variantsTable))
      .query()
      .where('pos = 100')
      .select(['alt', 'info'])
      .toArray();
    assert.deepEqual(
      rows.map((r) => [String(r.alt), JSON.parse(String(r.info))]).sort(),
      [
        ['A', { GENE: ['\ufeffx'], AF: 0.1, RD: [9, 1] }],
        ['T', { GENE: ['\ufeffx'], AF: 0.3, RD: [9, 3] }],
      ],
      'Number=A and Number=R INFO values split onto each ALT row',
    );
  } finally {
    db.close();
  }
});

test('contract faults are dead-lettered with the codes the README gives', async () => {
  const config = testConfig({
    kafka: { topicPartitions: 1 },
    pipelines: ['variants', 'embeddings'],
    embeddings: { dim: DIM },
  });
  const kafka = createKafka(config, silentLogger);
  await ensureTopics(kafka, config);
  const variant = (key: string, body: object) => ({ key, value: JSON.stringify(body) });
  const variants = [
    variant('empty-chrom', { chrom: '', pos: 1, ref: 'A', alt: 'G' }),
    variant('allele-3', { chrom: '1', pos: 2, ref: 'A', alt: ['G', 'T'], samples: { S: { GT: '0/3' } } }),
    variant('deep-dp', { chrom: '1', pos: 3, ref: 'A', alt: 'G', samples: { S: { GT: '0/1', DP: 1e20 } } }),
    variant('fine', { chrom: '1', pos: 4, ref: 'A', alt: 'G', samples: { S: { GT: '0/1' } } }),
  ];
  const embeddings = [
    { key: 'null-element', value: JSON.stringify({ id: 'n', vector: [0.1, null, 0.2, 0.3] }) },
    {
      key: 'short-arrow',
      value: shortArrow(3, DIM),
      headers: { 'content-type': 'application/vnd.apache.arrow.stream' },
    },
    { key: 'fine-embedding', value: JSON.stringify({ id: 'ok', vector: [0.1, 0.2, 0.3, 0.4] }) },
  ];
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: config.topics.variants, messages: variants });
  await producer.send({ topic: config.topics.embeddings, messages: embeddings });
  await producer.disconnect();
  const consumer = pipelinesConsumer(config);
  await consumer.start();
  await waitUntilCaughtUp(testKafka(), config);
  await consumer.stop();
  assert.deepEqual(consumer.stats.deadLetters, {
    MISSING_FIELD: 1,
    INVALID_FIELD: 2,
    NON_FINITE_VECTOR: 1,
    INVALID_ARROW: 1,
  });
  const db = await lancedb.connect(config.lancedb.uri);
  try {
    const rows = await (await db.openTable(config.lancedb.embeddingsTable)).query().toArray();
    assert.deepEqual(
      rows.map((r) => String(r.id)),
      ['ok'],
      'no all-zero vectors from the short stream',
    );
    assert.equal(await (await db.openTable(config.lancedb.variantsTable)).countRows(), 1);
  } finally {
    db.close();
  }
});

const WITH_BAD_RECORDS = [
  '##fileformat=VCFv4.2',
  '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">',
  '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO',
  'chr1\t10\t.\tA\tC\t.\tPASS\tDP=1',
  'chr1\t.\t.\tA\tC\t.\tPASS\tDP=1',
  'chr1\t123abc\t.\tA\tC\t.\tPASS\t.',
  'chr1\t-1\t.\tA\tC\t.\tPASS\t.',
  'chr1\t20\t.\tA\tC\t.\tPASS\t',
  'chr1\t30\t.\tA\tC\t.\tPASS',
  'chr1\t40\t.\tA\tC\t.\tPASS\t.',
];

test('produce vcf reports and skips a record it cannot publish, and goes on; --strict stops there', async () => {
  const config = testConfig({ kafka: { topicPartitions: 1 } });
  const path = join(config.lancedb.uri, '..', 'bad-records.vcf');
  writeFileSync(path, `${WITH_BAD_RECORDS.join('\n')}\n`);
  const kafka = createKafka(config, silentLogger);
  await ensureTopics(kafka, config);
  const skipped: string[] = [];
  const result = await produceVcf(kafkaPublishers(kafka), path, {
    topic: config.topics.variants,
    onSkip: (s) => skipped.push(`${s.path}:${s.line}`),
  });
  // Lines 5-7: POS `.`, `123abc`, `-1`; line 9 has no INFO column. Line 8's empty INFO is `.`.
  assert.equal(result.records, 3);
  assert.equal(result.skipped, 4);
  assert.deepEqual(
    skipped,
    [5, 6, 7, 9].map((line) => `${path}:${line}`),
  );
  const consumer = pipelinesConsumer(config);
  await consumer.start();
  await waitUntilCaughtUp(testKafka(), config);
  await consumer.stop();
  assert.deepEqual(consumer.stats.deadLetters, {});
  assert.equal((await countStores(config)).variants, 3, 'every valid record after a bad one was sent');

  const cli = (...args: string[]) =>
    spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'src/cli/main.ts'),
        'produce',
        'vcf',
        path,
        '--topic',
        uniqueName('t'),
        ...args,
      ],
      {
        cwd: ROOT,
        env: { ...process.env, KAFKA_BROKERS: ensureBroker() },
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
  const lenient = cli();
  assert.equal(lenient.status, 0, lenient.stderr);
  assert.match(
    lenient.stderr,
    new RegExp(`skipped ${path}:6: invalid VCF record \\(POS is not an integer >= 0\\)`),
  );
  assert.match(lenient.stderr, /4 records skipped \(lines 5, 6, 7, 9\)/);
  const strict = cli('--strict');
  assert.equal(strict.status, 1);
  assert.match(strict.stderr, new RegExp(`${path}:5: invalid VCF record \\(POS is not an integer >= 0\\)`));
});
