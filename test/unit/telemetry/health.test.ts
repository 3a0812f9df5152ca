import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { HealthServer, READINESS } from '../../../src/telemetry/health.ts';
import { waitFor } from '../../helpers/wait.ts';

const servers: HealthServer[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});

async function serve(options: Partial<ConstructorParameters<typeof HealthServer>[0]> = {}) {
  const server = new HealthServer({ port: 0, host: '127.0.0.1', livenessTtlMs: 60_000, ...options });
  servers.push(server);
  const port = await server.start();
  const get = async (path: string, method = 'GET') => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
    const text = await res.text();
    return {
      status: res.status,
      text,
      json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
    };
  };
  return { server, port, get };
}

describe('/healthz', () => {
  test('fails once the consume loop stops making progress for longer than the TTL, and recovers with progress', async () => {
    const { server, get } = await serve({ livenessTtlMs: 150 });
    // A consume loop that makes progress, then stalls on purpose.
    const loop = setInterval(() => server.progress(), 10);
    try {
      assert.equal((await get('/healthz')).status, 200);
    } finally {
      clearInterval(loop);
    }
    const stalled = await waitFor(
      async () => {
        const r = await get('/healthz');
        return r.status === 503 ? r : undefined;
      },
      { timeoutMs: 5_000, message: '/healthz to fail after the stall' },
    );
    assert.equal(stalled.json?.status, 'unhealthy');
    assert.match(
      String((stalled.json?.reasons as string[] | undefined)?.[0]),
      /^consume loop made no progress for \d+ ms \(ttl 150 ms\)$/,
    );
    server.progress();
    const recovered = await get('/healthz');
    assert.equal(recovered.status, 200);
    assert.deepEqual(recovered.json?.reasons, []);
  });

  test('counts from start(), watches every configured loop, and a fatal report fails it at once', async () => {
    let now = 1_000;
    const { server } = await serve({ livenessTtlMs: 100, loops: ['consume', 'lag'], now: () => now });
    assert.equal(server.liveness().ok, true);
    now += 50;
    server.progress('consume');
    now += 60;
    const report = server.liveness();
    assert.equal(report.ok, false, 'lag has not reported since start');
    assert.deepEqual(report.body.reasons, ['lag loop made no progress for 110 ms (ttl 100 ms)']);
    server.progress('lag');
    assert.equal(server.liveness().ok, true);
    server.setFatal('kafkajs consumer crashed and will not restart');
    assert.deepEqual(server.liveness().body.reasons, ['kafkajs consumer crashed and will not restart']);
  });
});

describe('/readyz', () => {
  test('is ready only when connected, joined and sinks open, and not while stopping', async () => {
    const { server, get } = await serve();
    let r = await get('/readyz');
    assert.equal(r.status, 503);
    assert.deepEqual(r.json?.missing, [
      'kafka-connected: not yet',
      'group-joined: not yet',
      'sinks-open: not yet',
    ]);
    server.setReady(READINESS.KAFKA_CONNECTED, true);
    server.setReady(READINESS.SINKS_OPEN, true);
    server.setReady(READINESS.GROUP_JOINED, false, 'rebalancing');
    r = await get('/readyz');
    assert.equal(r.status, 503);
    assert.deepEqual(r.json?.missing, ['group-joined: rebalancing']);
    assert.deepEqual(r.json?.checks, { 'kafka-connected': true, 'group-joined': false, 'sinks-open': true });
    server.setReady(READINESS.GROUP_JOINED, true);
    r = await get('/readyz');
    assert.equal(r.status, 200);
    assert.equal(r.json?.status, 'ready');
    server.setStopping();
    r = await get('/readyz');
    assert.equal(r.status, 503);
    assert.deepEqual(r.json?.missing, ['stopping']);
    assert.equal((await get('/healthz')).status, 200, 'stopping does not fail liveness');
  });
});

describe('routing', () => {
  test('/metrics is delegated; 404 without a handler; 405 and 404 otherwise; HEAD has no body', async () => {
    const plain = await serve();
    assert.equal((await plain.get('/metrics')).status, 404);
    const withMetrics = await serve({
      metrics: (_req, res) => {
        res.setHeader('content-type', 'text/plain');
        res.end('# metrics\n');
      },
    });
    const metrics = await fetch(`http://127.0.0.1:${withMetrics.port}/metrics`);
    assert.equal(await metrics.text(), '# metrics\n');
    assert.equal((await plain.get('/healthz', 'POST')).status, 405);
    assert.equal((await plain.get('/nope')).status, 404);
    const head = await plain.get('/healthz?verbose=1', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
  });
});
