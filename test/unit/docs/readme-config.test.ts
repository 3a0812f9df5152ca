import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ENV_BINDINGS, loadConfig, parseBytes } from '../../../src/config/index.ts';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

test('the README configuration table lists every environment variable, with its field', () => {
  for (const { env, path } of ENV_BINDINGS) {
    assert.match(readme, new RegExp(`\\| \`${env}\` \\| \`${path.replace('.', '\\.')}\` \\|`), env);
  }
});

test('the README lists no variable the configuration does not read', () => {
  const known = new Set([...ENV_BINDINGS.map((b) => b.env), 'VARSTREAM_CONFIG', 'KAFKA_PORT']);
  const listed = [...readme.matchAll(/^\| `([A-Z_]+)` \| (?:`[a-zA-Z.]+`|–) \|/gm)].map((m) => m[1]);
  assert.ok(listed.length >= ENV_BINDINGS.length);
  for (const env of listed) assert.ok(known.has(env as string), `${env} is documented but not read`);
});

/** The value at a dotted path of the configuration. */
function at(config: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], config);
}

/** What a README default cell says the value is: a literal, a byte size, a list; undefined when unset. */
function documented(cell: string, actual: unknown): unknown {
  const literal = /`([^`]*)`/.exec(cell)?.[1];
  if (literal === undefined) return undefined;
  if (typeof actual === 'number') return /^\d+$/.test(literal) ? Number(literal) : parseBytes(literal);
  if (typeof actual === 'boolean') return literal === 'true';
  if (Array.isArray(actual)) return literal.split(',');
  return literal;
}

test('each default in the README configuration table is the schema default, value for value', () => {
  // At 1Gi, so that the derived sizes are the ones the table quotes ("derived (`8Mi` at 1Gi)").
  const config = loadConfig({ env: { VARSTREAM_MEMORY_LIMIT: '1Gi' } });
  const rows = new Map(
    [...readme.matchAll(/^\| `([A-Z_]+)` \| `([a-zA-Z.]+)` \| ([^|]*) \|/gm)].map((m) => [
      m[1],
      m[3]?.trim() ?? '',
    ]),
  );
  const wrong: string[] = [];
  for (const { env, path } of ENV_BINDINGS) {
    const cell = rows.get(env);
    if (cell === undefined || env === 'VARSTREAM_MEMORY_LIMIT') continue; // the limit: cgroup's, else 1Gi
    const actual = at(config, path);
    const want = cell.startsWith('unset') ? undefined : documented(cell, actual);
    if (JSON.stringify(want) !== JSON.stringify(actual))
      wrong.push(`${env}: README says ${cell}, the schema gives ${JSON.stringify(actual)}`);
  }
  assert.deepEqual(wrong, []);
});
