/**
 * Proves: `npm run bench` runs every scenario end to end on the real broker (the fast subset: small
 * backlogs) and writes JSON of the documented shape, a markdown table and an SVG chart. It asserts
 * completion and shape only: speed is what the bench reports, never what a test asserts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SCENARIOS } from '../../src/bench/scenarios.ts';
import { ensureBroker } from '../helpers/kafka.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('npm run bench runs all scenarios on small backlogs and writes JSON, a table and a chart', () => {
  const brokers = ensureBroker();
  const out = join(mkdtempSync(join(tmpdir(), 'varstream-bench-')), 'bench.json');
  const args = [
    ...['--messages', '1500', '--embeddings', '200', '--old-way', '30', '--rate', '100'],
    ...['--graph-scale', '0.001'],
  ];
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src/bench/bench.ts'), ...args, '--rate-seconds', '3', '--out', out],
    { cwd: ROOT, env: { ...process.env, KAFKA_BROKERS: brokers }, encoding: 'utf8', timeout: 600_000 },
  );
  assert.equal(result.status, 0, `${result.stderr}\n${result.stdout}`);

  const json = JSON.parse(readFileSync(out, 'utf8'));
  assert.match(json.commit, /^[0-9a-f]{40}$/);
  assert.equal(json.machine.cpus > 0, true);
  assert.deepEqual(
    json.scenarios.map((s: { name: string }) => s.name),
    [...SCENARIOS],
  );
  for (const s of json.scenarios) {
    for (const field of ['messages', 'seconds', 'msgsPerSec', 'mbPerSec', 'peakRssMb', 'cpuSeconds'])
      assert.equal(typeof s[field], 'number', `${s.name}.${field}`);
    assert.ok(s.seconds > 0 && s.msgsPerSec > 0 && s.osPeakRssMb > 0, `${s.name}: ${JSON.stringify(s)}`);
    for (const field of ['p50LatencyMs', 'p99LatencyMs', 'ratioToCeiling'])
      assert.ok(s[field] === null || typeof s[field] === 'number', `${s.name}.${field}`);
  }
  const byName = new Map(json.scenarios.map((s: { name: string }) => [s.name, s]));
  const variants = byName.get('variants') as Record<string, number>;
  assert.equal(variants.messages, 1500);
  assert.ok(
    Number(variants.p50LatencyMs) > 0 && Number(variants.p99LatencyMs) >= Number(variants.p50LatencyMs),
  );
  assert.equal(typeof variants.ratioToCeiling, 'number');
  assert.equal((byName.get('old-way') as Record<string, number>).messages, 30);
  assert.equal((byName.get('embeddings-f32') as Record<string, number>).rows, 200);
  for (const name of ['genome', 'cohort']) {
    const r = byName.get(name) as Record<string, unknown>;
    assert.equal(typeof r.ratioToStoreCeiling, 'number', `${name}: ratio to Kuzu's COPY`);
    assert.equal((r.cgroup as { oomKills: number } | null)?.oomKills ?? 0, 0, `${name}: no OOM kill`);
  }

  for (const name of SCENARIOS) assert.match(result.stdout, new RegExp(`\\| ${name} \\|`));
  assert.match(
    readFileSync(out.replace(/\.json$/, '.svg'), 'utf8'),
    /^<svg [^>]+>[\s\S]*variants[\s\S]*<\/svg>\n$/,
  );
});

test('npm run bench:kuzu-native runs every probe in its own process and writes JSON', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'varstream-bench-')), 'kuzu-native.json');
  const args = ['--statements', '130', '--checkpoints', '20', '--batches', '130', '--out', out];
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src/bench/kuzu-native.ts'), ...args],
    {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 300_000,
    },
  );
  assert.equal(result.status, 0, `${result.stderr}\n${result.stdout}`);
  const json = JSON.parse(readFileSync(out, 'utf8'));
  assert.match(json.commit, /^[0-9a-f]{40}$/);
  const probes = ['prepare-each', 'prepare-once', 'checkpoint', 'sink', 'sink-no-reopen'];
  assert.deepEqual(
    json.results.map((r: { probe: string }) => r.probe),
    probes,
  );
  for (const r of json.results) {
    assert.equal(r.iterations, r.probe === 'checkpoint' ? 20 : 130, r.probe);
    // Sampled before the first iteration and after every tenth, the last after the last.
    assert.equal(r.rssMb[0].i, 0, r.probe);
    assert.equal(r.rssMb.at(-1).i, r.iterations, r.probe);
    assert.ok(
      r.rssMb.every((s: { mb: number }) => s.mb > 0),
      r.probe,
    );
  }
  // 130 batches reach two checkpoints (every 64), fewer than one reopen needs.
  assert.equal(json.results.find((r: { probe: string }) => r.probe === 'sink').reopens, 0);
  for (const probe of probes) assert.match(result.stdout, new RegExp(`^${probe} `, 'm'));
});

test('npm run bench:graph runs every workload, its queries, redelivery and COPY ceiling, and writes JSON and a chart', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'varstream-bench-')), 'graph.json');
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src/bench/graph.ts'), '--scale', '0.002', '--queries', '3', '--out', out],
    { cwd: ROOT, encoding: 'utf8', timeout: 600_000 },
  );
  assert.equal(result.status, 0, `${result.stderr}\n${result.stdout}`);
  const json = JSON.parse(readFileSync(out, 'utf8'));
  assert.match(json.commit, /^[0-9a-f]{40}$/);
  assert.deepEqual(
    json.workloads.map((w: { name: string }) => w.name),
    ['genome', 'family', 'cohort'],
  );
  for (const w of json.workloads) {
    assert.equal(w.deciles.length, 10, w.name);
    assert.ok(w.variants > 0 && w.calls > 0 && w.variantsPerSec > 0, w.name);
    assert.equal(w.counts.variants, w.variants, `${w.name}: every variant once`);
    assert.equal(w.counts.carriedBy, w.calls, `${w.name}: every call once`);
    assert.equal(w.redelivery.countsUnchanged, true, `${w.name}: redelivery changed nothing`);
    assert.equal(typeof w.ratioToCopy.calls, 'number', w.name);
    for (const q of ['carriers', 'sampleVariantsInGene', 'geneVariants', 'sampleVariantCount'])
      assert.equal(typeof w.queries[q].p50Ms, 'number', `${w.name} ${q}`);
  }
  assert.match(
    readFileSync(out.replace(/\.json$/, '.svg'), 'utf8'),
    /^<svg [^>]+>[\s\S]*genome[\s\S]*<\/svg>\n$/,
  );
});
