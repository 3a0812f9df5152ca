/**
 * `varstream consume` on a terminal (a real pseudo-terminal, util-linux `script`): a start banner,
 * a live status block that reaches "caught up", one readable line per dead letter, readable log
 * lines instead of JSON; Ctrl-C still drains and exits 0.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { variantMessages } from '../../src/chaos/ledger.ts';
import { ensureBroker, isolatedVariantBacklog } from '../helpers/kafka.ts';
import { waitFor } from '../helpers/wait.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

before(() => {
  process.env.KAFKA_BROKERS = ensureBroker();
});

test('on a terminal: banner, live status to "caught up", dead letters as lines, readable logs; Ctrl-C exits 0', async () => {
  const { id, env, config, topic } = await isolatedVariantBacklog(
    'tty',
    { VARSTREAM_PIPELINES: 'variants' },
    (t) => [
      ...variantMessages(t, 'tty', 1, 40).map((o) => o.message),
      ...[1, 2, 3].map((i) => ({ key: `bad-${i}`, value: `not json ${i}` })),
    ],
  );

  const { LOG_FORMAT: _unset, ...parentEnv } = process.env;
  const child = spawn('script', ['-qfec', 'exec node --import tsx src/cli/main.ts consume', '/dev/null'], {
    cwd: ROOT,
    env: { ...parentEnv, ...env, SHELL: '/bin/sh' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let raw = '';
  child.stdout.on('data', (chunk: Buffer) => {
    raw += chunk.toString();
  });
  const text = () => raw.replace(ANSI, '').replace(/\r/g, '');
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitFor(() => text().includes(`caught up: ${topic} committed 43 of 43`), {
      timeoutMs: 120_000,
      intervalMs: 200,
      message: 'the caught-up line',
    });
    // The block is redrawn every second: wait for a frame drawn after the last commit.
    await waitFor(() => new RegExp(`${topic}: committed 43 of 43 · lag 0 \\(caught up\\)`).test(text()), {
      timeoutMs: 10_000,
      message: 'the status block at lag 0',
    });
    const screen = text();
    assert.match(
      screen,
      new RegExp(`^varstream ${VERSION.replace(/\./g, '\\.')}: consuming ${topic} → lancedb, kuzu$`, 'm'),
    );
    assert.match(screen, new RegExp(`group ${id} · dead letters to ${config.topics.deadLetter}`));
    assert.match(screen, /Ctrl-C stops after writing and committing what is buffered/);
    const letters =
      screen.match(
        new RegExp(`^dead letter INVALID_JSON  ${topic}/\\d@\\d+  message value is not JSON`, 'gm'),
      ) ?? [];
    assert.equal(letters.length, 3, screen.slice(-3000));
    assert.match(
      screen,
      /consumed 43 · written lancedb 40 rows, kuzu \d[\d,]* nodes\+edges · dead letters INVALID_JSON 3/,
    );
    assert.match(screen, /memory NORMAL · RSS \d+ MiB of \d+ MiB · paused none/);
    assert.match(screen, /INFO: joined consumer group/);
    assert.doesNotMatch(screen, /\{"level":/, 'no JSON log lines on a terminal');
    child.stdin.write('\x03');
    assert.equal(await exited, 0, text().slice(-2000));
    assert.match(text(), /INFO: stopped/);
  } finally {
    child.kill('SIGKILL');
  }
});
