/**
 * Proves: configured only through the KAFKA_SSL* / KAFKA_SASL* environment variables, a varstream
 * consumer (createKafka + PipelineConsumer, dead-letter producer and admin included) creates its
 * topics, receives what was produced and commits it over TLS with a private CA, mutual TLS, and
 * SASL_SSL with SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN; a wrong password is refused at once with
 * a clear error, and a broker certificate from an untrusted CA, or a mutual-TLS listener without a
 * client certificate, fails the connection.
 *
 * The broker is a second instance of scripts/kafka/kafka.sh with its own data directory and free
 * ports, extra SSL / MTLS / SASL_SSL listeners (KAFKA_EXTRA_*), SCRAM users written at format
 * time (KAFKA_SCRAM_USERS), and certificates this test makes with openssl. It is stopped in `after`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { VariantBatch } from '../../src/batching/variant-batch.ts';
import { type Config, loadConfig } from '../../src/config/index.ts';
import { createKafka } from '../../src/consumers/kafka-client.ts';
import { ensureTopics } from '../../src/consumers/topics.ts';
import { deliver, type Sink, type SinkBatch } from '../../src/core/sink.ts';
import { silentLogger, testConsumer, uniqueName, waitUntilCaughtUp } from '../helpers/kafka.ts';
import { makeTestPki, type TestPki } from '../helpers/tls.ts';

const KAFKA_SH = fileURLToPath(new URL('../../scripts/kafka/kafka.sh', import.meta.url));

const USERS = {
  scram256: { name: 'alice', password: 'alice-scram-256-secret' },
  scram512: { name: 'bob', password: 'bob-scram-512-secret' },
  plain: { name: 'carol', password: 'carol-plain-secret' },
};

let dir: string;
let pki: TestPki;
let brokerEnv: NodeJS.ProcessEnv;
const port = { plaintext: 0, controller: 0, ssl: 0, mtls: 0, saslSsl: 0 };

/** Free TCP ports on 127.0.0.1, all held open at once so none is handed out twice. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

function kafkaSh(command: 'up' | 'down'): void {
  const result = spawnSync('bash', [KAFKA_SH, command], {
    env: brokerEnv,
    encoding: 'utf8',
    timeout: 150_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.status !== 0) {
    throw new Error(
      `kafka.sh ${command} failed (exit ${result.status}${result.error ? `, ${result.error.message}` : ''}):\n${result.stdout}${result.stderr}`,
    );
  }
}

/** The broker's listener settings: one keystore for all TLS listeners, three SASL mechanisms. */
function brokerProperties(): string {
  const jaas = (module: string, users = '') => `org.apache.kafka.common.security.${module} required${users};`;
  return [
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${pki.brokerKeystoreFile}`,
    `ssl.key.password=${pki.brokerKeyPassword}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${pki.caFile}`,
    'ssl.client.auth=none',
    'listener.name.mtls.ssl.client.auth=required',
    'listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    `listener.name.sasl_ssl.plain.sasl.jaas.config=${jaas('plain.PlainLoginModule', ` user_${USERS.plain.name}="${USERS.plain.password}"`)}`,
    `listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=${jaas('scram.ScramLoginModule')}`,
    `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=${jaas('scram.ScramLoginModule')}`,
    // One partition for the group coordinator's topic: the first group joins sooner.
    'offsets.topic.num.partitions=1',
    '',
  ].join('\n');
}

before(
  async () => {
    dir = mkdtempSync(join(tmpdir(), 'varstream-kafka-security-'));
    pki = makeTestPki(join(dir, 'pki'));
    [port.plaintext, port.controller, port.ssl, port.mtls, port.saslSsl] = (await freePorts(5)) as [
      number,
      number,
      number,
      number,
      number,
    ];
    const properties = join(dir, 'listeners.properties');
    writeFileSync(properties, brokerProperties(), { mode: 0o600 });
    brokerEnv = {
      ...process.env,
      KAFKA_PORT: String(port.plaintext),
      KAFKA_CONTROLLER_PORT: String(port.controller),
      KAFKA_DATA_DIR: join(dir, 'kafka'),
      KAFKA_EXTRA_LISTENERS: [
        `SSL://127.0.0.1:${port.ssl}`,
        `MTLS://127.0.0.1:${port.mtls}`,
        `SASL_SSL://127.0.0.1:${port.saslSsl}`,
      ].join(','),
      KAFKA_EXTRA_PROTOCOL_MAP: 'MTLS:SSL',
      KAFKA_EXTRA_PROPERTIES: properties,
      KAFKA_SCRAM_USERS: [
        `SCRAM-SHA-256=[name=${USERS.scram256.name},password=${USERS.scram256.password}]`,
        `SCRAM-SHA-512=[name=${USERS.scram512.name},password=${USERS.scram512.password}]`,
      ].join(';'),
    };
    kafkaSh('up');
  },
  { timeout: 180_000 },
);

after(
  () => {
    try {
      if (brokerEnv) kafkaSh('down');
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  },
  { timeout: 60_000 },
);

/** The environment of each way to connect: exactly what an operator would set. */
const env = {
  tls: (): Record<string, string> => ({
    KAFKA_BROKERS: `127.0.0.1:${port.ssl}`,
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: pki.caFile,
  }),
  mtls: (): Record<string, string> => ({
    KAFKA_BROKERS: `127.0.0.1:${port.mtls}`,
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: pki.caFile,
    KAFKA_SSL_CERT_FILE: pki.clientCertFile,
    KAFKA_SSL_KEY_FILE: pki.clientKeyFile,
    KAFKA_SSL_KEY_PASSWORD: pki.clientKeyPassword,
  }),
  sasl: (mechanism: string, user: { name: string; password: string }): Record<string, string> => ({
    KAFKA_BROKERS: `127.0.0.1:${port.saslSsl}`,
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: pki.caFile,
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: user.name,
    KAFKA_SASL_PASSWORD: user.password,
  }),
};

/** A configuration loaded from `security` plus fresh topics and group, as `varstream consume` would. */
function configFrom(security: Record<string, string>): Config {
  const name = uniqueName('sec');
  return loadConfig({
    env: {
      ...security,
      VARSTREAM_GROUP_ID: name,
      VARSTREAM_TOPIC_VARIANTS: `${name}-variants`,
      VARSTREAM_TOPIC_EMBEDDINGS: `${name}-embeddings`,
      VARSTREAM_TOPIC_DEAD_LETTER: `${name}-dlq`,
      VARSTREAM_TOPIC_PARTITIONS: '1',
      VARSTREAM_PIPELINES: 'variants',
      VARSTREAM_BATCH_LINGER_MS: '50',
    },
  });
}

/** Keeps the variant ids it was given; the stores themselves are not what this test is about. */
class CollectingSink implements Sink<VariantBatch> {
  readonly name = 'collecting';
  readonly variantIds = new Set<string>();
  async start() {}
  async close() {}
  async writeBatch(batch: SinkBatch<VariantBatch>) {
    for (const id of batch.payload.variants.variantId) this.variantIds.add(id);
    return deliver.written(batch.payload.variants.length);
  }
}

const MESSAGES = 20;

/** Topics, produce, consume with a PipelineConsumer, commit: all through `security`. */
async function roundTrip(security: Record<string, string>): Promise<void> {
  const config = configFrom(security);
  const kafka = createKafka(config, silentLogger);
  await ensureTopics(kafka, config);
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({
      topic: config.topics.variants,
      messages: Array.from({ length: MESSAGES }, (_, i) => ({
        key: `7-${i + 1}-C`,
        value: JSON.stringify({ chrom: '7', pos: i + 1, ref: 'C', alt: 'T', samples: { S1: { GT: '0/1' } } }),
      })),
    });
  } finally {
    await producer.disconnect();
  }

  const sink = new CollectingSink();
  const consumer = testConsumer(config, [sink]);
  try {
    await consumer.start();
    await waitUntilCaughtUp(kafka, config, 30_000);
  } finally {
    assert.equal(await consumer.stop(), true, 'clean stop');
  }
  assert.equal(consumer.stats.messages, MESSAGES);
  assert.deepEqual(consumer.stats.deadLetters, {});
  assert.equal(sink.variantIds.size, MESSAGES, 'every variant reached the sink');
}

/** The error connecting with `security` fails with (admin: metadata only). */
async function connectError(security: Record<string, string>): Promise<Error> {
  const admin = createKafka(configFrom(security), silentLogger).admin();
  try {
    await admin.connect();
    await admin.listTopics();
  } catch (error) {
    return error as Error;
  } finally {
    await admin.disconnect();
  }
  assert.fail('expected the connection to fail');
}

describe('a varstream consumer over a secured broker', () => {
  test('TLS with a private CA (KAFKA_SSL, KAFKA_SSL_CA_FILE)', () => roundTrip(env.tls()));

  test('mutual TLS with an encrypted client key (KAFKA_SSL_CERT_FILE, _KEY_FILE, _KEY_PASSWORD)', () =>
    roundTrip(env.mtls()));

  test('SASL_SSL with SCRAM-SHA-256', () => roundTrip(env.sasl('scram-sha-256', USERS.scram256)));

  test('SASL_SSL with SCRAM-SHA-512', () => roundTrip(env.sasl('SCRAM-SHA-512', USERS.scram512)));

  test('SASL PLAIN over TLS', () => roundTrip(env.sasl('plain', USERS.plain)));
});

describe('refused', () => {
  test('a wrong SCRAM password fails the consumer start at once, saying so', async () => {
    const config = configFrom(env.sasl('scram-sha-256', { ...USERS.scram256, password: 'wrong-password' }));
    const consumer = testConsumer(config, [new CollectingSink()]);
    const started = performance.now();
    try {
      await assert.rejects(consumer.start(), (error: Error) => {
        assert.equal(error.name, 'KafkaJSSASLAuthenticationError');
        assert.match(
          error.message,
          /SASL SCRAM SHA256 authentication failed: .*invalid credentials with SASL mechanism SCRAM-SHA-256/,
        );
        assert.doesNotMatch(error.message, /wrong-password/);
        return true;
      });
    } finally {
      await consumer.stop();
    }
    assert.ok(performance.now() - started < 10_000, 'an authentication failure is not retried');
  });

  test('a wrong PLAIN password, and a SCRAM user on the wrong mechanism, are refused', async () => {
    const wrong = await connectError(env.sasl('plain', { ...USERS.plain, password: 'nope' }));
    assert.equal(wrong.name, 'KafkaJSSASLAuthenticationError');
    assert.match(wrong.message, /SASL PLAIN authentication failed: .*Invalid username or password/);
    // alice has only a SCRAM-SHA-256 credential.
    const mechanism = await connectError(env.sasl('scram-sha-512', USERS.scram256));
    assert.equal(mechanism.name, 'KafkaJSSASLAuthenticationError');
  });

  // Certificate failures are connection errors, which kafkajs retries (~10 s): run them together.
  describe('at the TLS handshake', { concurrency: true }, () => {
    test('a broker certificate from a CA that is not trusted', async () => {
      const error = await connectError({ ...env.tls(), KAFKA_SSL_CA_FILE: pki.otherCaFile });
      assert.match(error.message, /unable to verify the first certificate|self[- ]signed certificate/);
    });

    test('the mutual-TLS listener without a client certificate', async () => {
      const {
        KAFKA_SSL_CERT_FILE: _c,
        KAFKA_SSL_KEY_FILE: _k,
        KAFKA_SSL_KEY_PASSWORD: _p,
        ...noCert
      } = env.mtls();
      const error = await connectError(noCert);
      assert.match(error.message, /certificate/);
    });

    test('KAFKA_SSL_REJECT_UNAUTHORIZED=false accepts that untrusted certificate (test brokers only)', async () => {
      const config = configFrom({
        ...env.tls(),
        KAFKA_SSL_CA_FILE: pki.otherCaFile,
        KAFKA_SSL_REJECT_UNAUTHORIZED: 'false',
      });
      const admin = createKafka(config, silentLogger).admin();
      await admin.connect();
      try {
        assert.ok(Array.isArray(await admin.listTopics()));
      } finally {
        await admin.disconnect();
      }
    });
  });
});
