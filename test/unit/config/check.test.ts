/** Configuration you can check: unknown settings are named with the nearest one; every value says where it came from. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { configRows, loadConfig } from '../../../src/config/index.ts';

const noCgroup = () => undefined;

test('an unknown VARSTREAM_* variable is a warning naming the nearest setting; known ones and other prefixes are not', () => {
  const config = loadConfig({
    env: {
      VARSTREAM_BATCH_MAX_ROW: '5',
      VARSTREAM_KUZU_PATHS: '/tmp/x',
      VARSTREAM_ZZZ_NOTHING_LIKE_IT: '1',
      VARSTREAM_BATCH_MAX_ROWS: '7',
      VARSTREAM_SHARED_DIR: '/x',
      OTHER_VARIABLE: 'y',
    },
    readCgroup: noCgroup,
  });
  assert.equal(config.batch.maxRows, 7, 'the misspelled one is ignored');
  assert.deepEqual(config.warnings, [
    'unknown environment variable VARSTREAM_BATCH_MAX_ROW (ignored); did you mean VARSTREAM_BATCH_MAX_ROWS?',
    'unknown environment variable VARSTREAM_KUZU_PATHS (ignored); did you mean VARSTREAM_KUZU_PATH?',
    'unknown environment variable VARSTREAM_ZZZ_NOTHING_LIKE_IT (ignored)',
  ]);
});

test('an unknown key of the configuration file is a warning with its dotted path and the nearest field', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'varstream-check-')), 'config.json');
  writeFileSync(file, JSON.stringify({ batch: { maxRow: 5, lingerMs: 20 }, kuzoo: { path: 'x' } }));
  const config = loadConfig({ env: { VARSTREAM_CONFIG: file }, readCgroup: noCgroup });
  assert.equal(config.batch.lingerMs, 20);
  const quoted = JSON.stringify(file);
  assert.deepEqual(config.warnings, [
    `unknown key "batch.maxRow" in VARSTREAM_CONFIG = ${quoted} (ignored); did you mean batch.maxRows?`,
    `unknown key "kuzoo" in VARSTREAM_CONFIG = ${quoted} (ignored)`,
  ]);
});

test('every setting says where its value came from: default, derived, file, env (KAFKA_PORT too) or flag', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'varstream-check-')), 'config.json');
  writeFileSync(file, JSON.stringify({ batch: { lingerMs: 20 }, kuzu: { path: '/tmp/from-file' } }));
  const config = loadConfig({
    env: {
      VARSTREAM_CONFIG: file,
      VARSTREAM_KUZU_PATH: '/tmp/from-env',
      KAFKA_PORT: '29092',
      KAFKA_SASL_PASSWORD: 'pw',
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SSL: 'true',
    },
    overrides: { batch: { maxRows: 9 } },
    readCgroup: noCgroup,
  });
  const rows = new Map(configRows(config).map((r) => [r.field, r]));
  assert.equal(rows.get('batch.lingerMs')?.source, 'file');
  assert.deepEqual(rows.get('kuzu.path'), {
    field: 'kuzu.path',
    env: 'VARSTREAM_KUZU_PATH',
    value: '/tmp/from-env',
    source: 'env VARSTREAM_KUZU_PATH',
  });
  assert.equal(rows.get('kafka.brokers')?.source, 'env KAFKA_PORT');
  assert.deepEqual(rows.get('kafka.brokers')?.value, ['127.0.0.1:29092']);
  assert.equal(rows.get('batch.maxRows')?.source, 'flag');
  assert.equal(rows.get('batch.maxBytes')?.source, 'derived');
  assert.equal(rows.get('kafka.clientId')?.source, 'default');
  assert.equal(rows.get('kafka.sasl.password')?.value, '<redacted>', 'secrets are never printed');
  assert.equal(configRows(config).length, rows.size);
});
