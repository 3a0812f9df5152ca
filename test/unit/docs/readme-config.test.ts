import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ENV_BINDINGS } from '../../../src/config/index.ts';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

test('the README configuration table lists every environment variable, with its field', () => {
  for (const { env, path } of ENV_BINDINGS) {
    assert.match(readme, new RegExp(`\\| \`${env}\` \\| \`${path.replace('.', '\\.')}\` \\|`), env);
  }
});

test('the README lists no variable the configuration does not read', () => {
  const known = new Set([...ENV_BINDINGS.map((b) => b.env), 'VARSTREAM_CONFIG']);
  const listed = [...readme.matchAll(/^\| `([A-Z_]+)` \| (?:`[a-zA-Z.]+`|–) \|/gm)].map((m) => m[1]);
  assert.ok(listed.length >= ENV_BINDINGS.length);
  for (const env of listed) assert.ok(known.has(env as string), `${env} is documented but not read`);
});
