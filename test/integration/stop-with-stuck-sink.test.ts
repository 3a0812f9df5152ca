/**
 * Proves: a stop cannot hang on a stuck sink. With a sink write that does not return (and a store
 * that cannot close while it runs), SIGTERM still ends the process within the grace period, with
 * a non-zero exit code and nothing committed; the next run re-reads and writes everything once.
 * A second signal exits at once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { isolatedEnv, MeasuredConsumer } from '../../src/bench/child-process.ts';
import { variantMessages } from '../../src/chaos/ledger.ts';
import { loadConfig } from '../../src/config/index.ts';
import { createKafka } from '../../src/consumers/kafka-client.ts';
import { ensureTopics } from '../../src/consumers/topics.ts';
import { committedOffsets, countLance, ensureBroker, silentLogger, uniqueName } from '../helpers/kafka.ts';
import { freePort } from '../helpers/net.ts';
import { waitFor } from '../helpers/wait.ts';

const GRACE_MS = 4_000;

before(() => {
  process.env.KAFKA_BROKERS = ensureBroker();
});

async function setup(messages: number) {
  const id = uniqueName('stuck');
  const env = isolatedEnv(id, mkdtempSync(join(tmpdir(), 'varstream-stuck-')), {
    VARSTREAM_PIPELINES: 'variants',
    VARSTREAM_VARIANT_SINKS: 'lancedb',
    VARSTREAM_BATCH_LINGER_MS: '100',
    VARSTREAM_SHUTDOWN_GRACE_MS: String(GRACE_MS),
  });
  const config = loadConfig({ env });
  const kafka = createKafka(config, silentLogger);
  await ensureTopics(kafka, config);
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: config.topics.variants,
    messages: variantMessages(config.topics.variants, 'stuck', 1, messages).map((o) => o.message),
  });
  await producer.disconnect();
  return { env, config, kafka };
}

async function startStuck(env: Record<string, string>): Promise<MeasuredConsumer> {
  const stuck = new MeasuredConsumer({ ...env, VARSTREAM_TEST_SINK_DELAY_MS: '600000', LOG_LEVEL: 'debug' });
  await waitFor(() => stuck.messages.has('test sink: write delayed'), {
    timeoutMs: 60_000,
    message: 'a sink write is stuck',
  });
  return stuck;
}

test('SIGTERM with a sink write stuck: exit non-zero within the grace period, nothing committed, re-read next time', async () => {
  const { env, config, kafka } = await setup(200);
  const stuck = await startStuck(env);
  const signalled = performance.now();
  stuck.child.kill('SIGTERM');
  const { exitCode } = await stuck.waitExit(GRACE_MS + 10_000);
  const seconds = (performance.now() - signalled) / 1000;
  assert.equal(exitCode, 1, 'a stop that could not commit everything exits 1');
  assert.ok(
    seconds < GRACE_MS / 1000 + 3,
    `exited ${seconds.toFixed(1)} s after SIGTERM (grace ${GRACE_MS} ms)`,
  );
  const committed = await committedOffsets(kafka, config.kafka.groupId, config.topics.variants);
  assert.ok(
    [...committed.values()].every((o) => o <= 0),
    `nothing committed: ${JSON.stringify([...committed])}`,
  );

  const healthy = new MeasuredConsumer(env);
  await healthy.waitCaughtUp(kafka, config.kafka.groupId, config.topics.variants, 90_000);
  assert.equal((await healthy.stop()).exitCode, 0);
  assert.deepEqual(await countLance(config), { rows: 200, distinctIds: 200 });
});

test('a second signal exits at once; the same one relayed within a second does not', async () => {
  const { env } = await setup(20);
  const stuck = await startStuck(env);
  stuck.child.kill('SIGTERM');
  await waitFor(() => stuck.messages.has('stopping: flushing buffered batches and committing'), {
    timeoutMs: 10_000,
    message: 'the first signal was taken',
  });
  const firstTaken = performance.now();
  // What a parent relaying the terminal's Ctrl-C does (npm, the tsx CLI): the same signal again.
  stuck.child.kill('SIGINT');
  await waitFor(
    () => stuck.messages.has('the same stop signal again (relayed by a parent process): ignored'),
    {
      timeoutMs: 10_000,
      message: 'the relayed copy to be ignored',
    },
  );
  assert.equal(stuck.child.exitCode, null, 'still stopping');
  // A person's second Ctrl-C: more than the 1 s in which a signal counts as the first one.
  await waitFor(() => performance.now() - firstTaken > 1_100, { timeoutMs: 5_000, message: '1.1 s' });
  stuck.child.kill('SIGINT');
  const { exitCode } = await stuck.waitExit(GRACE_MS);
  assert.equal(exitCode, 130);
});

test('a sink write that does not return fails /healthz once VARSTREAM_SINK_STALL_MS has passed', async () => {
  const { env } = await setup(20);
  const port = await freePort();
  const stuck = new MeasuredConsumer({
    ...env,
    VARSTREAM_TEST_SINK_DELAY_MS: '600000',
    VARSTREAM_SINK_STALL_MS: '2000',
    VARSTREAM_HTTP_PORT: String(port),
    LOG_LEVEL: 'debug',
  });
  try {
    await waitFor(() => stuck.messages.has('test sink: write delayed'), {
      timeoutMs: 60_000,
      message: 'a sink write is stuck',
    });
    const health = async () => {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      return { status: response.status, body: (await response.json()) as { reasons: string[] } };
    };
    assert.equal((await health()).status, 200, 'healthy while the write is younger than the limit');
    const failed = await waitFor(
      async () => {
        const h = await health();
        return h.status === 503 ? h : undefined;
      },
      { timeoutMs: 20_000, message: '/healthz to fail on the stalled write' },
    );
    assert.match(
      failed.body.reasons.join('; '),
      /lancedb write has not returned for \d+ ms \(limit 2000 ms\)/,
    );
  } finally {
    stuck.child.kill('SIGKILL');
    await stuck.waitExit(10_000).catch(() => undefined);
  }
});
