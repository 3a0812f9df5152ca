import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, ENV_BINDINGS, loadConfig, parseBytes } from '../../../src/config/index.ts';
import { configSchema } from '../../../src/config/schema.ts';

test('defaults apply when nothing is set', () => {
  const config = loadConfig({ env: {} });
  assert.deepEqual(config.kafka.brokers, ['127.0.0.1:19092']);
  assert.equal(config.topics.variants, 'variants');
  assert.equal(config.batch.maxBytes, 16 * 1024 * 1024);
  assert.deepEqual(config.variants.sinks, ['lancedb', 'kuzu']);
  assert.equal(config.shutdownGraceMs, 25_000);
});

test('environment variables set their fields, with units', () => {
  const config = loadConfig({
    env: {
      KAFKA_BROKERS: 'a:9092, b:9093',
      VARSTREAM_BATCH_MAX_BYTES: '4Mi',
      VARSTREAM_BATCH_MAX_ROWS: '500',
      VARSTREAM_VARIANT_SINKS: 'kuzu',
      VARSTREAM_KUZU_BUFFER_POOL: '1Gi',
    },
  });
  assert.deepEqual(config.kafka.brokers, ['a:9092', 'b:9093']);
  assert.equal(config.batch.maxBytes, 4 * 1024 * 1024);
  assert.equal(config.batch.maxRows, 500);
  assert.deepEqual(config.variants.sinks, ['kuzu']);
  assert.equal(config.kuzu.bufferPoolBytes, 1024 ** 3);
});

test('overrides win over the environment', () => {
  const config = loadConfig({
    env: { VARSTREAM_BATCH_MAX_ROWS: '500' },
    overrides: { batch: { maxRows: 7 } },
  });
  assert.equal(config.batch.maxRows, 7);
});

function problem(env: Record<string, string>): string {
  try {
    loadConfig({ env });
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.message;
  }
  assert.fail('expected a ConfigError');
}

test('a bad value fails with the field, its variable, the value and what is accepted', () => {
  assert.match(
    problem({ VARSTREAM_BATCH_MAX_ROWS: 'lots' }),
    /batch\.maxRows \(env VARSTREAM_BATCH_MAX_ROWS\) = "lots": expected an integer between 1 and/,
  );
  assert.match(
    problem({ VARSTREAM_VARIANT_SINKS: 'lancedb,neo4j' }),
    /variants\.sinks .* expected one of: lancedb, kuzu/,
  );
  assert.match(
    problem({ VARSTREAM_BATCH_MAX_BYTES: '12 parsecs' }),
    /batch\.maxBytes .* expected a byte size/,
  );
  assert.match(problem({ KAFKA_BROKERS: 'localhost' }), /kafka\.brokers .* expected host:port/);
  assert.match(
    problem({ LOG_LEVEL: 'loud' }),
    /logLevel .* expected one of: fatal, error, warn, info, debug, trace, silent/,
  );
  assert.match(
    problem({ VARSTREAM_LANCEDB_VARIANTS_TABLE: 'v; DROP' }),
    /lancedb\.variantsTable .* expected a table name/,
  );
  assert.match(
    problem({ VARSTREAM_TOPIC_VARIANTS: 'bad topic' }),
    /topics\.variants .* expected a Kafka topic name/,
  );
});

test('every problem is reported at once', () => {
  const message = problem({ VARSTREAM_BATCH_MAX_ROWS: '0', LOG_LEVEL: 'x' });
  assert.match(message, /batch\.maxRows/);
  assert.match(message, /logLevel/);
});

test('an unreadable config file is named', () => {
  assert.match(
    problem({ VARSTREAM_CONFIG: '/nonexistent/varstream.json' }),
    /VARSTREAM_CONFIG = "\/nonexistent\/varstream.json": cannot read/,
  );
});

test('every environment binding names a field of the schema', () => {
  type Node = { shape?: Record<string, Node>; _zod: { def: { innerType?: Node } } };
  // Peel default/optional/pipe wrappers down to the object that has a shape.
  const unwrap = (node: Node): Node =>
    node.shape || !node._zod.def.innerType ? node : unwrap(node._zod.def.innerType);
  for (const { env, path } of ENV_BINDINGS) {
    let node: Node | undefined = configSchema as unknown as Node;
    for (const key of path.split('.')) node = node ? unwrap(node).shape?.[key] : undefined;
    assert.notEqual(node, undefined, `${env} -> ${path}`);
  }
});

test('byte sizes accept Kubernetes and B-suffixed units', () => {
  assert.equal(parseBytes('512Mi'), 512 * 1024 ** 2);
  assert.equal(parseBytes('16MiB'), 16 * 1024 ** 2);
  assert.equal(parseBytes('2GB'), 2e9);
  assert.equal(parseBytes('1048576'), 1048576);
  assert.equal(parseBytes('1.5Ki'), 1536);
  assert.equal(parseBytes('12 parsecs'), undefined);
  assert.equal(parseBytes('-1'), undefined);
});
