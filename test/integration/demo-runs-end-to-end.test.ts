/**
 * Proves: the README's main command works: `varstream demo` publishes its real VCF (the GIAB trio),
 * consumes it into LanceDB and Kuzu until every offset is committed, and prints a summary whose
 * counts (read back from the stores) equal those computed independently from the file; with
 * `--records`/`--samples` it does the same for a generated VCF.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEMO_VCF } from '../../src/cli/demo.ts';
import { ensureBroker, fixtureVcf } from '../helpers/kafka.ts';
import { expectedCounts, expectedFromVcf } from '../helpers/vcf-expectations.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('the demo consumes its real VCF and prints the counts the file implies', async () => {
  const brokers = ensureBroker();
  const dataDir = mkdtempSync(join(tmpdir(), 'varstream-demo-'));
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'demo', '--data-dir', dataDir],
    { cwd: ROOT, env: { ...process.env, KAFKA_BROKERS: brokers }, encoding: 'utf8', timeout: 240_000 },
  );
  assert.equal(result.status, 0, result.stderr);
  const e = expectedCounts(await expectedFromVcf(fixtureVcf(DEMO_VCF)));
  const n = (x: number) => x.toLocaleString('en-US');
  assert.match(
    result.stdout,
    new RegExp(
      `varstream demo: 9,940 messages -> ${n(e.variants)} variants, ${n(e.genes)} genes, ${n(e.samples)} samples, ` +
        `${n(e.carriedBy)} CARRIED_BY and ${n(e.inGene)} IN_GENE edges, 0 dead letters`,
    ),
  );
});

test('the demo consumes a generated VCF and prints a summary', () => {
  const brokers = ensureBroker();
  const dataDir = mkdtempSync(join(tmpdir(), 'varstream-demo-'));
  const result = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'src/cli/main.ts'),
      'demo',
      '--records',
      '3000',
      '--samples',
      '20',
      '--data-dir',
      dataDir,
    ],
    { cwd: ROOT, env: { ...process.env, KAFKA_BROKERS: brokers }, encoding: 'utf8', timeout: 240_000 },
  );
  assert.equal(result.status, 0, result.stderr);
  const summary = result.stdout.split('\n').find((l) => l.startsWith('varstream demo:'));
  assert.ok(summary, `a summary line in:\n${result.stdout}`);
  assert.match(
    summary,
    /3,000 messages -> [\d,]+ variants, [\d,]+ genes, 20 samples, [\d,]+ CARRIED_BY and [\d,]+ IN_GENE edges, 0 dead letters/,
  );
  assert.match(summary, /peak RSS [\d.]+ MiB/);
  assert.match(result.stdout, new RegExp(`LanceDB: ${dataDir}/demo-[\\d-]+/lancedb`));
  assert.match(result.stdout, new RegExp(`Kuzu: +${dataDir}/demo-[\\d-]+/kuzu/graph.kuzu`));
});
