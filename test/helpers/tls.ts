/**
 * A throwaway PKI for the Kafka security tests, made with the openssl CLI (Debian: `openssl`, which
 * ca-certificates already pulls in): a CA, a broker certificate for 127.0.0.1 / localhost, a client
 * certificate for mutual TLS, and an unrelated CA that must not be trusted. EC P-256 keys: fast to
 * make, and both the JDK (broker) and Node (kafkajs) speak them.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  /** The CA that signed the broker and client certificates. */
  caFile: string;
  /** A CA that signed nothing here: a broker certificate does not verify against it. */
  otherCaFile: string;
  /**
   * The broker's PEM keystore for Kafka (`ssl.keystore.type=PEM`): its encrypted PKCS#8 key, then
   * its certificate. PBE-SHA1-3DES, because the JDK's SecretKeyFactory has no PBES2 (OpenSSL's
   * default) and Kafka's file-based PEM keystore requires an encrypted key.
   */
  brokerKeystoreFile: string;
  brokerKeyPassword: string;
  /** Client certificate (mutual TLS), signed by the CA. */
  clientCertFile: string;
  /** Its key, encrypted (PKCS#8, AES-256) with clientKeyPassword. */
  clientKeyFile: string;
  clientKeyPassword: string;
  /** The same key, unencrypted. */
  clientPlainKeyFile: string;
  /** A key that belongs to no certificate here. */
  strayKeyFile: string;
  /** A client certificate that expired yesterday (same key as clientCertFile). */
  expiredCertFile: string;
}

/** Runs `openssl` in `dir` with `command` split on spaces (no argument here holds a space). */
function openssl(dir: string, command: string): void {
  const args = command.split(' ');
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT')
      throw new Error(
        'the openssl CLI is needed to make test certificates (Debian: apt-get install openssl)',
      );
    throw new Error(`openssl ${command} failed: ${e.stderr?.toString() ?? e.message}`);
  }
}

/** Makes the certificates and keys in `dir` (created if missing). */
export function makeTestPki(dir: string): TestPki {
  mkdirSync(dir, { recursive: true });
  const run = (command: string) => openssl(dir, command);
  const key = (name: string) =>
    run(`genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ${name}.key`);
  const ca = (name: string, cn: string) => {
    key(name);
    run(
      `req -x509 -new -key ${name}.key -out ${name}.pem -days 2 -subj /CN=${cn}` +
        ' -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign',
    );
  };
  /** Signs `name`.pem for the key `keyName`.key with the CA; `days` -1: expired yesterday. */
  const sign = (name: string, keyName: string, cn: string, extensions: string, days = 2) => {
    writeFileSync(join(dir, `${name}.ext`), `${extensions}\nbasicConstraints=CA:FALSE\n`);
    run(`req -new -key ${keyName}.key -out ${name}.csr -subj /CN=${cn}`);
    run(
      `x509 -req -in ${name}.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out ${name}.pem` +
        ` -days ${days} -extfile ${name}.ext`,
    );
  };

  ca('ca', 'varstream-test-CA');
  ca('other-ca', 'untrusted-test-CA');

  const brokerKeyPassword = 'broker-key-secret';
  key('broker');
  sign(
    'broker',
    'broker',
    'localhost',
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth',
  );
  run(`pkcs8 -topk8 -in broker.key -out broker.key.enc -v1 PBE-SHA1-3DES -passout pass:${brokerKeyPassword}`);
  writeFileSync(
    join(dir, 'broker.keystore.pem'),
    readFileSync(join(dir, 'broker.key.enc'), 'utf8') + readFileSync(join(dir, 'broker.pem'), 'utf8'),
  );

  const clientKeyPassword = 'client-key-secret';
  key('client');
  sign('client', 'client', 'varstream', 'extendedKeyUsage=clientAuth');
  sign('expired', 'client', 'varstream', 'extendedKeyUsage=clientAuth', -1);
  run(`pkcs8 -topk8 -in client.key -out client.key.enc -v2 aes-256-cbc -passout pass:${clientKeyPassword}`);
  key('stray');

  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    otherCaFile: join(dir, 'other-ca.pem'),
    brokerKeystoreFile: join(dir, 'broker.keystore.pem'),
    brokerKeyPassword,
    clientCertFile: join(dir, 'client.pem'),
    clientKeyFile: join(dir, 'client.key.enc'),
    clientKeyPassword,
    clientPlainKeyFile: join(dir, 'client.key'),
    strayKeyFile: join(dir, 'stray.key'),
    expiredCertFile: join(dir, 'expired.pem'),
  };
}
