/** `varstream config` prints the effective configuration; commands warn on stderr about unknown settings; `consume --help` lists the settings. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ENV_BINDINGS } from '../../../src/config/index.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
  });

test('varstream config --json lists every setting with its value and source, and warns about a typo on stderr', () => {
  const run = cli(['config', '--json'], { VARSTREAM_BATCH_LINGER_MS: '42', VARSTREAM_BATCH_LINGR_MS: '1' });
  assert.equal(run.status, 0, run.stderr);
  const rows = JSON.parse(run.stdout) as { field: string; env: string; value: unknown; source: string }[];
  assert.deepEqual(
    rows.map((r) => r.env),
    ENV_BINDINGS.map((b) => b.env),
  );
  assert.deepEqual(
    rows.find((r) => r.field === 'batch.lingerMs'),
    {
      field: 'batch.lingerMs',
      env: 'VARSTREAM_BATCH_LINGER_MS',
      value: 42,
      source: 'env VARSTREAM_BATCH_LINGER_MS',
    },
  );
  assert.match(
    run.stderr,
    /^varstream: warning: unknown environment variable VARSTREAM_BATCH_LINGR_MS \(ignored\); did you mean VARSTREAM_BATCH_LINGER_MS\?$/m,
  );
});

test('varstream config prints a table; a bad value fails it naming the field (exit 2)', () => {
  const table = cli(['config']);
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /^setting\s+variable\s+value\s+from$/m);
  assert.match(table.stdout, /^batch\.maxRows\s+VARSTREAM_BATCH_MAX_ROWS\s+10000\s+default$/m);
  const bad = cli(['config'], { VARSTREAM_BATCH_MAX_ROWS: 'lots' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /batch\.maxRows \(env VARSTREAM_BATCH_MAX_ROWS\) = "lots": expected an integer/);
});

test('consume --help lists every setting', () => {
  const run = cli(['consume', '--help']);
  assert.equal(run.status, 0, run.stderr);
  for (const { env } of ENV_BINDINGS) assert.match(run.stdout, new RegExp(`^  ${env}\\s`, 'm'), env);
});
