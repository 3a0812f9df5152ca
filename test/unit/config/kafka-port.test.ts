/** KAFKA_PORT, the local broker's port, is where every command connects unless KAFKA_BROKERS says otherwise. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config/index.ts';

test('without KAFKA_BROKERS, KAFKA_PORT sets the broker every command connects to', () => {
  assert.deepEqual(loadConfig({ env: { KAFKA_PORT: '29092' } }).kafka.brokers, ['127.0.0.1:29092']);
  assert.deepEqual(loadConfig({ env: {} }).kafka.brokers, ['127.0.0.1:19092']);
});

test('KAFKA_BROKERS wins over KAFKA_PORT', () => {
  const config = loadConfig({ env: { KAFKA_PORT: '29092', KAFKA_BROKERS: 'kafka-0:9092' } });
  assert.deepEqual(config.kafka.brokers, ['kafka-0:9092']);
});

test('a KAFKA_PORT that is not a port fails the start, naming the variable', () => {
  assert.throws(
    () => loadConfig({ env: { KAFKA_PORT: 'http' } }),
    (e: unknown) => e instanceof ConfigError && /KAFKA_PORT = "http": expected a port number/.test(e.message),
  );
});
