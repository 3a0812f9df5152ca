/**
 * Kafka TLS and SASL settings: read from the environment, checked at load (fields that need each
 * other, the files they name), secrets never shown, and turned into kafkajs' `ssl` / `sasl`.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { ConfigError, describeConfig, loadConfig } from '../../../src/config/index.ts';
import { createKafka, kafkaSecurity } from '../../../src/consumers/kafka-client.ts';
import { makeTestPki, type TestPki } from '../../helpers/tls.ts';

const silentLogger = pino({ level: 'silent' });
let dir: string;
let pki: TestPki;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'varstream-kafka-security-'));
  pki = makeTestPki(join(dir, 'pki'));
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The ConfigError message loading `env` fails with. */
function problem(env: Record<string, string>): string {
  try {
    loadConfig({ env });
  } catch (error) {
    assert.ok(error instanceof ConfigError, `a ConfigError, not ${String(error)}`);
    return error.message;
  }
  assert.fail('expected a ConfigError');
}

const mtlsEnv = () => ({
  KAFKA_SSL: 'true',
  KAFKA_SSL_CA_FILE: pki.caFile,
  KAFKA_SSL_CERT_FILE: pki.clientCertFile,
  KAFKA_SSL_KEY_FILE: pki.clientKeyFile,
  KAFKA_SSL_KEY_PASSWORD: pki.clientKeyPassword,
});

describe('nothing set', () => {
  test('TLS and SASL are off and kafkajs gets neither option', () => {
    const config = loadConfig({ env: {} });
    assert.deepEqual(config.kafka.ssl, { enabled: false, rejectUnauthorized: true });
    assert.deepEqual(config.kafka.sasl, {});
    assert.deepEqual(kafkaSecurity(config), {});
  });
});

describe('TLS', () => {
  test('KAFKA_SSL=true alone: TLS with the default trust store, certificates verified', () => {
    const config = loadConfig({ env: { KAFKA_SSL: 'true' } });
    assert.equal(config.kafka.ssl.enabled, true);
    assert.deepEqual(kafkaSecurity(config), { ssl: { rejectUnauthorized: true } });
  });

  test('mutual TLS: CA, certificate and encrypted key become kafkajs ssl options (PEM text)', () => {
    const config = loadConfig({ env: { ...mtlsEnv(), KAFKA_SSL_SERVERNAME: 'localhost' } });
    assert.deepEqual(kafkaSecurity(config), {
      ssl: {
        ca: readFileSync(pki.caFile, 'utf8'),
        cert: readFileSync(pki.clientCertFile, 'utf8'),
        key: readFileSync(pki.clientKeyFile, 'utf8'),
        passphrase: pki.clientKeyPassword,
        servername: 'localhost',
        rejectUnauthorized: true,
      },
    });
  });

  test('an unencrypted key needs no password', () => {
    const config = loadConfig({
      env: { ...mtlsEnv(), KAFKA_SSL_KEY_FILE: pki.clientPlainKeyFile, KAFKA_SSL_KEY_PASSWORD: '' },
    });
    assert.deepEqual(kafkaSecurity(config), {
      ssl: {
        ca: readFileSync(pki.caFile, 'utf8'),
        cert: readFileSync(pki.clientCertFile, 'utf8'),
        key: readFileSync(pki.clientPlainKeyFile, 'utf8'),
        rejectUnauthorized: true,
      },
    });
  });

  test('KAFKA_SSL_REJECT_UNAUTHORIZED=false turns verification off', () => {
    const config = loadConfig({ env: { KAFKA_SSL: 'TRUE', KAFKA_SSL_REJECT_UNAUTHORIZED: 'false' } });
    assert.deepEqual(kafkaSecurity(config), { ssl: { rejectUnauthorized: false } });
  });

  test('flags accept true or false only', () => {
    assert.match(
      problem({ KAFKA_SSL: 'yes' }),
      /kafka\.ssl\.enabled \(env KAFKA_SSL\) = "yes": expected true or false/,
    );
    assert.match(
      problem({ KAFKA_SSL: 'true', KAFKA_SSL_REJECT_UNAUTHORIZED: '0' }),
      /kafka\.ssl\.rejectUnauthorized \(env KAFKA_SSL_REJECT_UNAUTHORIZED\) = "0": expected true or false/,
    );
  });

  test('TLS settings without KAFKA_SSL=true fail instead of being ignored', () => {
    const message = problem({ KAFKA_SSL_CA_FILE: pki.caFile, KAFKA_SSL_REJECT_UNAUTHORIZED: 'false' });
    assert.match(
      message,
      /kafka\.ssl\.caFile \(env KAFKA_SSL_CA_FILE\) = ".*ca\.pem": only used with TLS: set KAFKA_SSL=true/,
    );
    assert.match(
      message,
      /kafka\.ssl\.rejectUnauthorized \(env KAFKA_SSL_REJECT_UNAUTHORIZED\) = false: only used with TLS/,
    );
  });

  test('a certificate needs its key, and a key its certificate', () => {
    assert.match(
      problem({ KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: pki.clientCertFile }),
      /kafka\.ssl\.keyFile \(env KAFKA_SSL_KEY_FILE\): required with KAFKA_SSL_CERT_FILE/,
    );
    assert.match(
      problem({ KAFKA_SSL: 'true', KAFKA_SSL_KEY_FILE: pki.clientPlainKeyFile }),
      /kafka\.ssl\.certFile \(env KAFKA_SSL_CERT_FILE\): required with KAFKA_SSL_KEY_FILE/,
    );
    assert.match(
      problem({ KAFKA_SSL: 'true', KAFKA_SSL_KEY_PASSWORD: 'pw' }),
      /kafka\.ssl\.keyPassword \(env KAFKA_SSL_KEY_PASSWORD\) = <redacted>: only used with KAFKA_SSL_KEY_FILE/,
    );
  });

  test('a file that does not exist, is a directory or is unreadable names its variable', () => {
    assert.match(
      problem({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: join(dir, 'missing.pem') }),
      /kafka\.ssl\.caFile \(env KAFKA_SSL_CA_FILE\) = ".*missing\.pem": cannot read the file: ENOENT/,
    );
    assert.match(
      problem({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: dir }),
      /kafka\.ssl\.caFile \(env KAFKA_SSL_CA_FILE\) = ".*": cannot read the file: not a regular file/,
    );
    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked.pem');
      writeFileSync(locked, readFileSync(pki.caFile));
      chmodSync(locked, 0o000);
      assert.match(
        problem({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: locked }),
        /kafka\.ssl\.caFile \(env KAFKA_SSL_CA_FILE\) = ".*locked\.pem": cannot read the file: EACCES/,
      );
    }
  });

  test('files of the wrong kind are refused', () => {
    assert.match(
      problem({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: pki.clientPlainKeyFile }),
      /kafka\.ssl\.caFile \(env KAFKA_SSL_CA_FILE\) = .*: expected PEM CA certificates/,
    );
    assert.match(
      problem({ ...mtlsEnv(), KAFKA_SSL_CERT_FILE: pki.clientPlainKeyFile }),
      /kafka\.ssl\.certFile \(env KAFKA_SSL_CERT_FILE\) = .*: expected a PEM certificate/,
    );
    assert.match(
      problem({ ...mtlsEnv(), KAFKA_SSL_KEY_FILE: pki.caFile, KAFKA_SSL_KEY_PASSWORD: '' }),
      /kafka\.ssl\.keyFile \(env KAFKA_SSL_KEY_FILE\) = .*: expected a PEM private key/,
    );
  });

  test('an encrypted key without its password, or with a wrong one, fails at load', () => {
    assert.match(
      problem({ ...mtlsEnv(), KAFKA_SSL_KEY_PASSWORD: '' }),
      /kafka\.ssl\.keyFile \(env KAFKA_SSL_KEY_FILE\) = .*: the key is encrypted: set its passphrase in KAFKA_SSL_KEY_PASSWORD/,
    );
    const message = problem({ ...mtlsEnv(), KAFKA_SSL_KEY_PASSWORD: 'not-the-passphrase' });
    assert.match(
      message,
      /kafka\.ssl\.keyPassword \(env KAFKA_SSL_KEY_PASSWORD\) = <redacted>: does not decrypt the key in KAFKA_SSL_KEY_FILE/,
    );
    assert.doesNotMatch(message, /not-the-passphrase/);
  });

  test('a certificate that does not belong to the key, or has expired, fails at load', () => {
    assert.match(
      problem({ ...mtlsEnv(), KAFKA_SSL_KEY_FILE: pki.strayKeyFile, KAFKA_SSL_KEY_PASSWORD: '' }),
      /kafka\.ssl\.certFile \(env KAFKA_SSL_CERT_FILE\) = .*: the certificate does not belong to the key in KAFKA_SSL_KEY_FILE/,
    );
    assert.match(
      problem({ ...mtlsEnv(), KAFKA_SSL_CERT_FILE: pki.expiredCertFile }),
      /kafka\.ssl\.certFile \(env KAFKA_SSL_CERT_FILE\) = .*: the certificate expired on /,
    );
  });

  test('a file that disappears after loading fails createKafka with the same kind of error', () => {
    const copy = join(dir, 'ca-copy.pem');
    writeFileSync(copy, readFileSync(pki.caFile));
    const config = loadConfig({ env: { KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: copy } });
    rmSync(copy);
    assert.throws(
      () => createKafka(config, silentLogger),
      (error: unknown) =>
        error instanceof ConfigError &&
        /kafka\.ssl\.caFile \(env KAFKA_SSL_CA_FILE\) = .*: cannot read the file: ENOENT/.test(error.message),
    );
  });
});

describe('SASL', () => {
  for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
    test(`${mechanism} with username and password becomes kafkajs sasl`, () => {
      const config = loadConfig({
        env: { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: 'alice', KAFKA_SASL_PASSWORD: 'pw' },
      });
      assert.deepEqual(kafkaSecurity(config), { sasl: { mechanism, username: 'alice', password: 'pw' } });
    });
  }

  test("the mechanism's case does not matter (Kafka spells it SCRAM-SHA-512)", () => {
    const config = loadConfig({
      env: { KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SASL_USERNAME: 'a', KAFKA_SASL_PASSWORD: 'b' },
    });
    assert.equal(config.kafka.sasl.mechanism, 'scram-sha-512');
  });

  test('an unknown mechanism fails with the accepted ones', () => {
    assert.match(
      problem({ KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'a', KAFKA_SASL_PASSWORD: 'b' }),
      /kafka\.sasl\.mechanism \(env KAFKA_SASL_MECHANISM\) = "gssapi": expected one of: plain, scram-sha-256, scram-sha-512/,
    );
  });

  test('a mechanism needs a username and a password', () => {
    const message = problem({ KAFKA_SASL_MECHANISM: 'scram-sha-256' });
    assert.match(
      message,
      /kafka\.sasl\.username \(env KAFKA_SASL_USERNAME\): required with KAFKA_SASL_MECHANISM=scram-sha-256/,
    );
    assert.match(
      message,
      /kafka\.sasl\.password \(env KAFKA_SASL_PASSWORD\): required with KAFKA_SASL_MECHANISM=scram-sha-256/,
    );
  });

  test('a username or password without a mechanism fails with the accepted mechanisms', () => {
    const message = problem({ KAFKA_SASL_USERNAME: 'alice', KAFKA_SASL_PASSWORD: 'secret-pw' });
    assert.match(
      message,
      /kafka\.sasl\.mechanism \(env KAFKA_SASL_MECHANISM\): required with KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD: expected one of: plain, scram-sha-256, scram-sha-512/,
    );
    assert.doesNotMatch(message, /secret-pw/);
  });

  test('SASL and TLS together', () => {
    const config = loadConfig({
      env: {
        KAFKA_SSL: 'true',
        KAFKA_SSL_CA_FILE: pki.caFile,
        KAFKA_SASL_MECHANISM: 'scram-sha-256',
        KAFKA_SASL_USERNAME: 'alice',
        KAFKA_SASL_PASSWORD: 'pw',
      },
    });
    const options = kafkaSecurity(config);
    assert.deepEqual(options.sasl, { mechanism: 'scram-sha-256', username: 'alice', password: 'pw' });
    assert.equal(typeof options.ssl === 'object' && options.ssl.ca, readFileSync(pki.caFile, 'utf8'));
  });
});

describe('secrets', () => {
  test('the effective configuration shows file paths but never a password', () => {
    const config = loadConfig({
      env: {
        ...mtlsEnv(),
        KAFKA_SASL_MECHANISM: 'plain',
        KAFKA_SASL_USERNAME: 'alice',
        KAFKA_SASL_PASSWORD: 'sasl-secret',
      },
    });
    const described = describeConfig(config);
    assert.equal(described['kafka.sasl.password'], '<redacted>');
    assert.equal(described['kafka.ssl.keyPassword'], '<redacted>');
    assert.equal(described['kafka.sasl.username'], 'alice');
    assert.equal(described['kafka.ssl.caFile'], pki.caFile);
    const text = JSON.stringify(described);
    assert.doesNotMatch(text, /sasl-secret/);
    assert.doesNotMatch(text, new RegExp(pki.clientKeyPassword));
  });

  test('an unset secret is shown as unset, not as redacted', () => {
    const described = describeConfig(loadConfig({ env: {} }));
    assert.equal(described['kafka.sasl.password'], undefined);
  });

  test('a password in the VARSTREAM_CONFIG file is refused: secrets come from the environment', () => {
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({ kafka: { sasl: { mechanism: 'plain', username: 'a', password: 'in-file' } } }),
    );
    const message = problem({ VARSTREAM_CONFIG: file });
    assert.match(
      message,
      /kafka\.sasl\.password in VARSTREAM_CONFIG = .*: secrets are read from the environment only; set KAFKA_SASL_PASSWORD instead/,
    );
    assert.doesNotMatch(message, /in-file/);
  });

  test('the other settings may come from the VARSTREAM_CONFIG file', () => {
    const file = join(dir, 'config-ok.json');
    writeFileSync(file, JSON.stringify({ kafka: { ssl: { enabled: true, caFile: pki.caFile } } }));
    const config = loadConfig({ env: { VARSTREAM_CONFIG: file } });
    assert.equal(config.kafka.ssl.caFile, pki.caFile);
  });
});
