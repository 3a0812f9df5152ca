/**
 * Proves, in a real pseudo-terminal (util-linux `script`), that one Ctrl-C to the documented
 * `npm run varstream -- consume` drains, commits and exits 0. The terminal sends SIGINT to the
 * whole foreground process group (npm, the tsx CLI, the consumer), and the parents relay it to the
 * consumer again a few milliseconds later: before, that relayed copy counted as a second Ctrl-C
 * and the consumer exited 130 without committing (3 runs in 5 in issue 24's report).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { variantMessages } from '../../src/chaos/ledger.ts';
import { committedOffsets, ensureBroker, isolatedVariantBacklog } from '../helpers/kafka.ts';
import { waitFor } from '../helpers/wait.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

before(() => {
  process.env.KAFKA_BROKERS = ensureBroker();
});

async function backlog() {
  const { env, config, kafka } = await isolatedVariantBacklog(
    'ctrlc',
    {
      VARSTREAM_PIPELINES: 'variants',
      VARSTREAM_VARIANT_SINKS: 'lancedb',
      VARSTREAM_BATCH_LINGER_MS: '100',
      LOG_LEVEL: 'info',
    },
    (topic) => variantMessages(topic, 'ctrlc', 1, 50).map((o) => o.message),
  );
  const allCommitted = () =>
    waitFor(
      async () => {
        const committed = await committedOffsets(kafka, config.kafka.groupId, config.topics.variants);
        return [...committed.values()].reduce((n, o) => n + Math.max(0, o), 0) === 50;
      },
      { timeoutMs: 120_000, intervalMs: 250, message: 'the consumer to commit all 50 messages' },
    );
  return { env, allCommitted };
}

const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms).unref())]);

test('one Ctrl-C in a terminal to `npm run varstream -- consume` commits and exits 0', async () => {
  const { env, allCommitted } = await backlog();
  // `script -e` runs the command on a new pseudo-terminal and exits with its status; what is written
  // to its stdin is typed on that terminal, so \x03 is a Ctrl-C from the terminal's line discipline.
  // `script` runs the command with `$SHELL -c`; `exec` puts npm in that shell's place, as it is
  // under an interactive shell. Else a non-interactive dash, waiting for npm in the same process
  // group, dies of the same SIGINT and `script` reports 130 whatever npm and the consumer exit with.
  const child = spawn('script', ['-qfec', 'exec npm run varstream -- consume', '/dev/null'], {
    cwd: ROOT,
    // JSON lines: this test reads the "stopped" line (a terminal would get the pretty output).
    env: { ...process.env, ...env, SHELL: '/bin/sh', LOG_FORMAT: 'json' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await allCommitted();
    child.stdin.write('\x03');
    const code = await within(exited, 60_000);
    assert.equal(code, 0, `exit status through npm; output:\n${output.slice(-3000)}`);
    assert.doesNotMatch(output, /second signal/);
    assert.match(output, /"msg":"stopped"/);
  } finally {
    child.kill('SIGKILL');
  }
});

test('SIGTERM to the npm process of `npm run varstream -- consume` commits and exits 0', async () => {
  const { env, allCommitted } = await backlog();
  const child = spawn('npm', ['run', 'varstream', '--', 'consume'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await allCommitted();
    child.kill('SIGTERM');
    const code = await within(exited, 60_000);
    assert.equal(code, 0, `exit status of npm; output:\n${output.slice(-3000)}`);
    assert.match(output, /"msg":"stopped"/);
  } finally {
    child.kill('SIGKILL');
  }
});
