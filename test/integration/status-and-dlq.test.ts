/**
 * The operator's commands against a real broker and real stores: `varstream status` says what
 * landed (committed vs end offsets, rows, nodes and edges, dead letters by code, the graph locked
 * while a consumer writes it); `varstream dlq tail` shows the dead letters; `dlq replay` (with a
 * dry run) publishes the chosen ones back to their topic with a header saying so, and after the
 * fix they land.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { variantMessages } from '../../src/chaos/ledger.ts';
import type { StatusReport } from '../../src/cli/status.ts';
import { ensureBroker, isolatedVariantBacklog, readTopic, waitUntilCaughtUp } from '../helpers/kafka.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

before(() => {
  process.env.KAFKA_BROKERS = ensureBroker();
});

function cli(args: string[], env: Record<string, string>) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  assert.equal(run.status, 0, `varstream ${args.join(' ')}: ${run.stderr}`);
  return run;
}

function startConsumer(env: Record<string, string>): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'consume'], {
    cwd: ROOT,
    env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { child, exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
}

test('status, dlq tail and dlq replay: see what landed, read the dead letters, replay them once fixed', async () => {
  const threeAlts = [1, 2, 3].map((i) => ({
    key: `chrOps-${1000 + i}-A`,
    value: JSON.stringify({
      chrom: 'chrOps',
      pos: 1000 + i,
      ref: 'A',
      alt: ['C', 'G', 'T'],
      genes: ['OPS1'],
    }),
  }));
  const { env, config, kafka, topic } = await isolatedVariantBacklog(
    'ops',
    { VARSTREAM_PIPELINES: 'variants', VARSTREAM_BATCH_LINGER_MS: '50' },
    (t) => [
      ...variantMessages(t, 'ops', 1, 30).map((o) => o.message),
      ...threeAlts,
      { key: 'bad-1', value: '{"chrom": "chrOps", "pos": ' },
      { key: 'bad-2', value: 'not json at all' },
    ],
  );

  // The first run allows 2 ALTs: the 3-ALT records are dead-lettered (TOO_MANY_ALTS).
  const strict = { ...env, VARSTREAM_MAX_ALTS: '2' };
  const first = startConsumer(strict);
  try {
    await waitUntilCaughtUp(kafka, config);
    const running = JSON.parse(cli(['status', '--json'], strict).stdout) as StatusReport;
    assert.equal(running.kuzu?.state, 'locked', 'a running writer holds the graph');
    assert.equal(running.group.state, 'Stable');
    assert.equal(running.group.members.length, 1);
    assert.deepEqual(running.group.members[0]?.assignment[topic]?.sort(), [0, 1, 2]);
  } finally {
    first.child.kill('SIGTERM');
  }
  assert.equal(await first.exited, 0);

  const report = JSON.parse(cli(['status', '--json'], env).stdout) as StatusReport;
  assert.deepEqual(
    report.topics.map((t) => [t.topic, t.committed, t.end, t.lag]),
    [[topic, 35, 35, 0]],
  );
  assert.deepEqual(
    report.lancedb?.tables.map((t) => (t.state === 'open' ? [t.table, t.rows] : [t.table, t.state])),
    [['variants', 30]],
  );
  assert.equal(report.kuzu?.state === 'open' && report.kuzu.variants, 30);
  assert.deepEqual(report.deadLetters.byCode, { TOO_MANY_ALTS: 3, INVALID_JSON: 2 });
  assert.equal(report.deadLetters.total, 5);
  assert.equal(report.group.state, 'Empty');
  const text = cli(['status'], env).stdout;
  assert.match(text, new RegExp(`topic ${topic}: committed 35 of 35, lag 0 \\(caught up\\)`));
  assert.match(text, /dead letters \(.*\): 5; by code: TOO_MANY_ALTS 3, INVALID_JSON 2/);

  const tail = cli(['dlq', 'tail', '--json'], env)
    .stdout.trim()
    .split('\n')
    .map(
      (line) =>
        JSON.parse(line) as {
          code: string;
          source: string;
          key: string;
          reason: string;
          valuePreview: string;
        },
    );
  assert.equal(tail.length, 5);
  const bad = tail.find((l) => l.key === 'bad-2');
  assert.equal(bad?.code, 'INVALID_JSON');
  assert.equal(bad?.valuePreview, 'not json at all');
  assert.match(bad?.source ?? '', new RegExp(`^${topic}/\\d@\\d+$`));
  const onlyAlts = cli(['dlq', 'tail', '--code', 'TOO_MANY_ALTS', '-n', '2', '--json'], env)
    .stdout.trim()
    .split('\n');
  assert.equal(onlyAlts.length, 2);
  assert.match(
    cli(['dlq', 'tail'], env).stdout,
    /INVALID_JSON {2}from .*\n {2}reason: .*\n {2}key: bad-1\n {2}value: 27 B: \{"chrom": "chrOps", "pos": /,
  );

  // A dry run publishes nothing.
  assert.match(
    cli(['dlq', 'replay', '--code', 'TOO_MANY_ALTS', '--dry-run'], env).stdout,
    new RegExp(`^would replay 3 to ${topic} \\(of 5 dead letters read\\)`),
  );
  const unchanged = JSON.parse(cli(['status', '--json'], env).stdout) as StatusReport;
  assert.equal(unchanged.topics[0]?.end, 35);

  // The fix (the default limit allows 3 ALTs), then the replay: the three land, 3 rows each.
  assert.match(
    cli(['dlq', 'replay', '--code', 'TOO_MANY_ALTS'], env).stdout,
    new RegExp(`^replayed 3 to ${topic}`),
  );
  // One message by its source offset: still invalid, it is dead-lettered again, saying it was replayed.
  assert.match(
    cli(['dlq', 'replay', '--offsets', bad?.source ?? ''], env).stdout,
    new RegExp(`^replayed 1 to ${topic}`),
  );
  const replayed = (await readTopic(kafka, topic, 39)).filter((m) => m.headers?.['varstream-replayed-from']);
  assert.deepEqual(replayed.map((m) => String(m.key)).sort(), [
    'bad-2',
    'chrOps-1001-A',
    'chrOps-1002-A',
    'chrOps-1003-A',
  ]);
  for (const m of replayed)
    assert.match(
      String(m.headers?.['varstream-replayed-from']),
      new RegExp(`^${config.topics.deadLetter}/\\d@\\d+$`),
    );
  const second = startConsumer(env);
  try {
    await waitUntilCaughtUp(kafka, config);
  } finally {
    second.child.kill('SIGTERM');
  }
  assert.equal(await second.exited, 0);
  const after = JSON.parse(cli(['status', '--json'], env).stdout) as StatusReport;
  assert.deepEqual(
    after.topics.map((t) => [t.committed, t.end, t.lag]),
    [[39, 39, 0]],
  );
  assert.deepEqual(
    after.lancedb?.tables.map((t) => (t.state === 'open' ? t.rows : t.state)),
    [30 + 9],
  );
  assert.equal(after.kuzu?.state === 'open' && after.kuzu.variants, 39);
  assert.deepEqual(after.deadLetters.byCode, { TOO_MANY_ALTS: 3, INVALID_JSON: 3 });
  const again = JSON.parse(cli(['dlq', 'tail', '-n', '1', '--json'], env).stdout.trim()) as {
    key: string;
    replayedFrom?: string;
  };
  assert.equal(again.key, 'bad-2', 'the newest letter is the replayed message, dead-lettered again');
  assert.match(again.replayedFrom ?? '', new RegExp(`^${config.topics.deadLetter}/\\d@\\d+$`));
});
