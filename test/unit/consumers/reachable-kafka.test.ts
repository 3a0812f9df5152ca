/**
 * A wrong broker address fails a command at once, in one line naming the address and the setting,
 * instead of kafkajs's ~12 s of connection retries. Against local sockets only: nothing listening,
 * something that is not Kafka, and a server answering ApiVersions as a broker does.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../src/config/index.ts';
import { BrokerUnreachableError, reachableKafka } from '../../../src/consumers/kafka-client.ts';
import { createLogger } from '../../../src/core/logger.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const silent = createLogger('silent');

async function listen(onConnection: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const { server, port } = await listen(() => undefined);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('nothing listening: refused, naming the address and the variable that set it', async () => {
  const port = await closedPort();
  const config = loadConfig({ env: { KAFKA_BROKERS: `127.0.0.1:${port}` }, readCgroup: () => undefined });
  await assert.rejects(reachableKafka(config, silent), (error: unknown) => {
    assert.ok(error instanceof BrokerUnreachableError);
    assert.match(
      error.message,
      new RegExp(
        `^cannot reach a Kafka broker at 127\\.0\\.0\\.1:${port} \\(KAFKA_BROKERS\\): 127\\.0\\.0\\.1:${port}: ECONNREFUSED; is the local broker running\\?`,
      ),
    );
    return true;
  });
  const viaPort = loadConfig({ env: { KAFKA_PORT: String(port) }, readCgroup: () => undefined });
  await assert.rejects(reachableKafka(viaPort, silent), /\(KAFKA_PORT\)/);
});

test('something that is not a Kafka broker does not count; a server answering ApiVersions does', async () => {
  const notKafka = await listen((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  const kafka = await listen((socket) =>
    socket.once('data', (request: Buffer) => {
      const response = Buffer.alloc(10);
      response.writeInt32BE(6, 0);
      response.writeInt32BE(request.readInt32BE(8), 4); // the request's correlation id
      socket.write(response);
    }),
  );
  try {
    const wrong = loadConfig({
      env: { KAFKA_BROKERS: `127.0.0.1:${notKafka.port}` },
      readCgroup: () => undefined,
    });
    await assert.rejects(
      reachableKafka(wrong, silent),
      /does not answer as a Kafka broker|closed the connection without a Kafka answer/,
    );
    const both = loadConfig({
      env: { KAFKA_BROKERS: `127.0.0.1:${notKafka.port},127.0.0.1:${kafka.port}` },
      readCgroup: () => undefined,
    });
    assert.ok(await reachableKafka(both, silent), 'one broker answering is enough');
  } finally {
    notKafka.server.close();
    kafka.server.close();
  }
});

test('varstream topics with a wrong KAFKA_BROKERS exits 1 with one line, before kafkajs would have retried', async () => {
  const port = await closedPort();
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'topics'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, KAFKA_BROKERS: `127.0.0.1:${port}` },
    // kafkajs alone retried for ~12 s, printing a JSON line per attempt.
    timeout: 8_000,
  });
  assert.equal(run.status, 1, `exit status (null: still retrying after 8 s); stderr: ${run.stderr}`);
  assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  assert.match(
    run.stderr,
    new RegExp(`^varstream: cannot reach a Kafka broker at 127\\.0\\.0\\.1:${port} \\(KAFKA_BROKERS\\)`),
  );
});
