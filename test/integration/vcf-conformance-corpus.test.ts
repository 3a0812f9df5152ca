/**
 * The VCF specification's own test files (samtools/hts-specs test/vcf/, copied to
 * shared/data/vcf-conformance/, SOURCES.md there) through `produce vcf` and the real broker into
 * both stores. A `passed` file (valid VCF) must land exactly as the independent reading of
 * test/helpers/vcf-expectations.ts says, with nothing skipped or dead-lettered. A `failed` file
 * (invalid VCF) must not crash the run, every message published from it must be stored or
 * dead-lettered (its topic's end committed), and its fault must be reported: the producer skipped
 * a record, refused the file with an error naming it, or the consumer dead-lettered a message.
 * The faults varstream does not check are listed in ACCEPTED_AS_VALID, each with why; those
 * files must land as the independent reading says, and the test fails once one of them is
 * reported, so the list only shrinks.
 *
 * One consumer group runs one variant pipeline per file (its own topic, LanceDB and Kuzu
 * directories), a few files per consumer: each Kuzu database maps 8 TiB of address space, so all
 * of them cannot be open at once.
 */

import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import * as lancedb from '@lancedb/lancedb';
import type { Config } from '../../src/config/index.ts';
import { createKafka } from '../../src/consumers/kafka-client.ts';
import { kafkaPublishers } from '../../src/consumers/publisher.ts';
import { ensureTopics } from '../../src/consumers/topics.ts';
import { variantPipeline, variantSinks } from '../../src/pipelines/variants.ts';
import { type ProduceVcfResult, produceVcf } from '../../src/producer/produce-vcf.ts';
import { KuzuStore } from '../../src/sinks/kuzu/kuzu-store.ts';
import {
  countStores,
  ensureBroker,
  pipelinesConsumer,
  readTopic,
  SHARED_VCF,
  type StoreCounts,
  silentLogger,
  testConfig,
  testKafka,
  waitUntilCaughtUp,
} from '../helpers/kafka.ts';
import { expectedCounts, expectedFromVcf } from '../helpers/vcf-expectations.ts';

/** Beside shared/data/vcf, resolved the same way (../shared of the clone, or VARSTREAM_SHARED_DIR). */
const CONFORMANCE = join(dirname(SHARED_VCF), 'vcf-conformance');

/**
 * Files per consumer run: each open Kuzu database maps 8 TiB of address space; no more than eight
 * fit in one process here (a ninth fails: "Mmap for size 8796093022208 failed"), and eight beside
 * the test's other mappings failed too.
 */
const WAVE = 5;

/**
 * Invalid files varstream takes as valid, and why: each lands as the independent reading says.
 * Remove an entry once its fault is reported (the test then says so).
 */
const ACCEPTED_AS_VALID: Record<string, string> = {
  '4.3_failed_failed_body_unsorted_000.vcf':
    'records out of order (POS 1400 before 500): a stream consumer does not check sort order',
  '4.3_failed_failed_body_duplicated_000.vcf':
    'the same record twice: the stores are idempotent by variant id, so it lands once',
  '4.3_failed_failed_body_duplicated_002.vcf':
    '123 AT>AA is 124 T>A once normalised: ids are taken as written, no normalisation',
  '4.3_failed_failed_body_id_003.vcf':
    'ID rs180734498;rs180734498 repeats a value: the ID column is kept as one string',
  '4.3_failed_failed_body_info_003.vcf':
    'INFO AC=AC1 (Integer per the spec) is kept as text; INFO values are not checked against their Type',
  '4.3_failed_failed_body_info_integer_overflow.vcf':
    'INFO INT=2147483648 exceeds a VCF Integer (32-bit); INFO values are not range-checked',
  '4.3_failed_failed_body_qual_000.vcf':
    'QUAL "quality" is not a number: it is stored as a missing QUAL (null)',
  '4.3_failed_failed_body_format_000.vcf':
    'FORMAT GT::GL has an empty key: only GT, DP and GQ are read, the rest of FORMAT is not checked',
  '4.3_failed_failed_body_samples_ploidy_000.vcf':
    'PL has 2 values where a diploid biallelic call needs 3 (Number=G): PL is not read',
  '4.3_failed_failed_body_no_newline_000.vcf':
    'the last line has no newline: the last record is complete and is read, as bcftools does',
  '4.3_failed_failed_fileformat_000.vcf': 'the ##fileformat value is empty: the header line is not checked',
  '4.3_failed_failed_body_alt_002.vcf':
    'ALT A,,T: an empty allele is read as a missing one, on purpose (VCF 4.4 files have them; 4.3 forbids it)',
  '4.3_failed_failed_body_chrom_001.vcf':
    "CHROM chr:1 holds a colon: the VCF 4.3 CHROM grammar allows it, and GRCh38's HLA contigs (HLA-A*01:01:01:01) need it",
};

interface Outcome {
  file: string;
  path: string;
  valid: boolean;
  config: Config;
  expected: ReturnType<typeof expectedCounts>;
  expectedRecords: number;
  produced?: ProduceVcfResult;
  /** The error produceVcf threw (the header could not be read). */
  thrown?: Error;
  deadLetters: Record<string, number>;
  /** The first dead letter's `dlq-error-message`. */
  deadLetterReason?: string;
  landed?: StoreCounts;
}

const EMPTY: StoreCounts = {
  rows: 0,
  distinctIds: 0,
  variants: 0,
  genes: 0,
  samples: 0,
  inGene: 0,
  carriedBy: 0,
};

/** countStores, or nothing landed when the LanceDB table was never created (every message dead-lettered). */
async function landed(config: Config): Promise<StoreCounts> {
  const db = await lancedb.connect(config.lancedb.uri);
  try {
    if (!(await db.tableNames()).includes(config.lancedb.variantsTable)) {
      const store = new KuzuStore(config.kuzu.path, 32 * 1024 * 1024);
      await store.open();
      try {
        const variants = Number(
          (await store.run('MATCH (v) WHERE v.key IS NOT NULL RETURN count(*) AS n'))[0]?.n,
        );
        return { ...EMPTY, variants, samples: await store.count('(:Sample)') };
      } finally {
        await store.close();
      }
    }
  } finally {
    db.close();
  }
  return countStores(config);
}

const header = (value: unknown) => (value === undefined ? '' : String(value));

const codes = (letters: Record<string, number>) =>
  Object.entries(letters)
    .map(([code, n]) => `${code}:${n}`)
    .join(',') || '-';

const brief = (c: ReturnType<typeof expectedCounts> | StoreCounts) =>
  `${c.variants}v/${c.samples}s/${c.carriedBy}c/${c.rows}r`;

/** Whether the run reported the file's fault, and how. */
function reported(o: Outcome): string | undefined {
  if (o.thrown) return o.thrown.message.includes(o.path) ? `refused: ${o.thrown.message}` : undefined;
  const how: string[] = [];
  if ((o.produced?.skipped ?? 0) > 0)
    how.push(`skipped ${o.produced?.firstSkipped.map((s) => `line ${s.line}: ${s.reason}`).join('; ')}`);
  if (Object.keys(o.deadLetters).length > 0)
    how.push(`dead-lettered ${codes(o.deadLetters)} (first: ${o.deadLetterReason})`);
  return how.length > 0 ? how.join('; ') : undefined;
}

const present = existsSync(CONFORMANCE);

test('the hts-specs VCF conformance files: valid ones land as the independent reading says, invalid ones are reported', {
  skip: present
    ? false
    : `no VCF conformance files at ${CONFORMANCE} (clone beside ../shared or set VARSTREAM_SHARED_DIR)`,
  timeout: 600_000,
}, async (t) => {
  const started = performance.now();
  ensureBroker();
  const files = readdirSync(CONFORMANCE)
    .filter((f) => /^\d\.\d_(passed|failed)_.*\.vcf$/.test(f))
    .sort();
  assert.ok(files.length > 0, `no <version>_<passed|failed>_<file>.vcf in ${CONFORMANCE}`);
  for (const name of Object.keys(ACCEPTED_AS_VALID))
    assert.ok(files.includes(name), `ACCEPTED_AS_VALID names ${name}, which is not in ${CONFORMANCE}`);

  // The consumer's group and dead-letter topic; each file has its own topic and stores.
  const base = testConfig({ kafka: { topicPartitions: 1 } });
  const kafka = createKafka(base, silentLogger);
  const outcomes: Outcome[] = await Promise.all(
    files.map(async (file) => {
      const path = join(CONFORMANCE, file);
      const config = testConfig({ kafka: { topicPartitions: 1 }, kuzu: { bufferPoolBytes: '32Mi' } });
      const expected = await expectedFromVcf(path);
      return {
        file,
        path,
        valid: /^\d\.\d_passed_/.test(file),
        config,
        expected: expectedCounts(expected),
        expectedRecords: expected.records,
        deadLetters: {},
      };
    }),
  );
  await ensureTopics(kafka, base, [base.topics.deadLetter, ...outcomes.map((o) => o.config.topics.variants)]);
  await Promise.all(
    outcomes.map(async (o) => {
      try {
        o.produced = await produceVcf(kafkaPublishers(kafka), o.path, { topic: o.config.topics.variants });
      } catch (error) {
        assert.ok(error instanceof Error, `${o.file}: produceVcf threw a non-Error: ${String(error)}`);
        o.thrown = error;
      }
    }),
  );
  const published = outcomes.filter((o) => (o.produced?.records ?? 0) > 0);
  const produceSeconds = (performance.now() - started) / 1000;

  // One consumer (same group) per wave of files; every topic's end must be committed.
  const totals: Record<string, number> = {};
  for (let i = 0; i < published.length; i += WAVE) {
    const wave = published.slice(i, i + WAVE);
    const consumer = pipelinesConsumer(
      base,
      wave.map((o) => variantPipeline(o.config, variantSinks(o.config, silentLogger))),
    );
    let failed: unknown;
    consumer.on('failed', ({ error }) => {
      failed ??= error;
    });
    await consumer.start();
    try {
      for (const o of wave) await waitUntilCaughtUp(testKafka(), base, 60_000, o.config.topics.variants);
    } finally {
      await consumer.stop();
    }
    assert.equal(failed ?? consumer.failure, undefined, 'the consumer did not crash');
    for (const [code, n] of Object.entries(consumer.stats.deadLetters))
      totals[code] = (totals[code] ?? 0) + n;
  }

  // Dead letters per file, from the dead-letter topic's own headers.
  const letterCount = Object.values(totals).reduce((a, b) => a + b, 0);
  const byTopic = new Map(outcomes.map((o) => [o.config.topics.variants, o]));
  const seen: Record<string, number> = {};
  if (letterCount > 0) {
    for (const letter of await readTopic(testKafka(), base.topics.deadLetter, letterCount)) {
      const o = byTopic.get(header(letter.headers?.['dlq-topic']));
      const code = header(letter.headers?.['dlq-error-code']);
      assert.ok(o, `a dead letter from an unknown topic ${header(letter.headers?.['dlq-topic'])}`);
      o.deadLetters[code] = (o.deadLetters[code] ?? 0) + 1;
      o.deadLetterReason ??= header(letter.headers?.['dlq-error-message']);
      seen[code] = (seen[code] ?? 0) + 1;
    }
  }
  assert.deepEqual(seen, totals, 'the dead-letter topic holds what consumer.stats.deadLetters counted');
  for (const o of outcomes) o.landed = (o.produced?.records ?? 0) > 0 ? await landed(o.config) : EMPTY;

  const seconds = (performance.now() - started) / 1000;
  t.diagnostic(
    `${files.length} files, ${published.length} topics with messages, ${outcomes.reduce((a, o) => a + (o.produced?.records ?? 0), 0)} messages; produced in ${produceSeconds.toFixed(1)} s, all in ${seconds.toFixed(1)} s`,
  );
  t.diagnostic(
    'file | expected | landed | published | skipped | dead letters | verdict  (v variants/s samples/c calls/r rows)',
  );
  for (const o of outcomes) {
    const how = reported(o);
    const verdict = o.valid
      ? 'valid'
      : ACCEPTED_AS_VALID[o.file]
        ? `ACCEPTED: ${ACCEPTED_AS_VALID[o.file]}`
        : (how ?? 'NOT REPORTED');
    t.diagnostic(
      `${o.file} | ${brief(o.expected)} | ${o.thrown ? 'threw' : brief(o.landed ?? EMPTY)} | ${o.produced?.records ?? '-'} | ${o.produced?.skipped ?? '-'} | ${codes(o.deadLetters)} | ${o.thrown ? `threw: ${o.thrown.message.replace(/\s+/g, ' ')}` : verdict}`,
    );
  }

  for (const o of outcomes) {
    await t.test(o.file, () => {
      const how = reported(o);
      if (o.valid) {
        assert.equal(o.thrown, undefined, `a valid file is refused: ${o.thrown?.message}`);
        assert.equal(o.produced?.skipped, 0, `records of a valid file skipped: ${how}`);
        assert.deepEqual(
          o.deadLetters,
          {},
          `a message of a valid file is dead-lettered: ${o.deadLetterReason}`,
        );
        assert.equal(o.produced?.records, o.expectedRecords, 'one message per record');
        assert.deepEqual(o.landed, o.expected, 'what landed is what the independent reading says');
        return;
      }
      const accepted = ACCEPTED_AS_VALID[o.file];
      if (o.thrown) {
        assert.equal(accepted, undefined, `it is refused now: remove it from ACCEPTED_AS_VALID`);
        assert.ok(o.thrown.message.includes(o.path), `the error names the file: ${o.thrown.message}`);
        return;
      }
      if (accepted) {
        assert.equal(how, undefined, `its fault is reported now (${how}): remove it from ACCEPTED_AS_VALID`);
        assert.equal(o.produced?.records, o.expectedRecords, 'one message per record');
        assert.deepEqual(o.landed, o.expected, 'it lands as the independent reading says');
        return;
      }
      assert.ok(
        how,
        `an invalid file (${o.file}) is taken as valid: report its fault, or list it in ACCEPTED_AS_VALID with why`,
      );
      // What did land is part of what the file says (the rest was skipped or dead-lettered).
      assert.ok((o.landed?.variants ?? 0) <= o.expected.variants, 'no variant the file does not hold');
    });
  }
});
