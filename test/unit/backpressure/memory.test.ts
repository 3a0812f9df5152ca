import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  deriveBudget,
  RUNTIME_RESERVE,
  readCgroupLimit,
  readCgroupWorkingSet,
  resolveLimit,
} from '../../../src/backpressure/memory-budget.ts';
import { MemoryLevel, MemoryMonitor, nextLevel } from '../../../src/backpressure/memory-monitor.ts';
import { AdaptiveBatchSize } from '../../../src/batching/adaptive.ts';
import { loadConfig } from '../../../src/config/index.ts';
import { silentLogger } from '../../helpers/kafka.ts';

const MiB = 1024 ** 2;
const budget = deriveBudget(1000 * MiB, 'VARSTREAM_MEMORY_LIMIT');

test('levels: thresholds in the band above the runtime (reserve + Kuzu pool), straight up', () => {
  // 1000 MiB: reserve 320 + pool 125 MiB, so WARNING / CRITICAL at half / three quarters of the 555 above.
  assert.deepEqual(
    [budget.resumeBytes, budget.warningBytes, budget.criticalBytes, budget.emergencyBytes].map(
      (b) => b / MiB,
    ),
    [583.75, 722.5, 861.25, 950],
  );
  assert.equal(nextLevel(MemoryLevel.NORMAL, 600 * MiB, budget), MemoryLevel.NORMAL);
  assert.equal(nextLevel(MemoryLevel.NORMAL, 730 * MiB, budget), MemoryLevel.WARNING);
  assert.equal(nextLevel(MemoryLevel.NORMAL, 870 * MiB, budget), MemoryLevel.CRITICAL);
  assert.equal(nextLevel(MemoryLevel.NORMAL, 999 * MiB, budget), MemoryLevel.EMERGENCY);
});

test('hysteresis: a level falls only once usage is clearly below it, one band at a time', () => {
  // WARNING holds until below the resume level, not just below WARNING.
  assert.equal(nextLevel(MemoryLevel.WARNING, 650 * MiB, budget), MemoryLevel.WARNING);
  assert.equal(nextLevel(MemoryLevel.WARNING, 580 * MiB, budget), MemoryLevel.NORMAL);
  // CRITICAL holds until 5% of the limit under its threshold.
  assert.equal(nextLevel(MemoryLevel.CRITICAL, 820 * MiB, budget), MemoryLevel.CRITICAL);
  assert.equal(nextLevel(MemoryLevel.CRITICAL, 800 * MiB, budget), MemoryLevel.WARNING);
  // A steep fall goes all the way down.
  assert.equal(nextLevel(MemoryLevel.EMERGENCY, 100 * MiB, budget), MemoryLevel.NORMAL);
  // Oscillating around a threshold does not flap.
  let level: MemoryLevel = MemoryLevel.NORMAL;
  const seen = new Set<MemoryLevel>();
  for (const used of [727, 718, 724, 715, 720, 725]) {
    level = nextLevel(level, used * MiB, budget);
    seen.add(level);
  }
  assert.deepEqual([...seen], [MemoryLevel.WARNING]);
});

test('the monitor emits and logs transitions only, and reports pipeline bytes', () => {
  let rss = 100 * MiB;
  const monitor = new MemoryMonitor({
    budget,
    intervalMs: 1000,
    logger: silentLogger,
    pipelineBytes: () => 42,
    read: () => ({
      rssBytes: rss,
      heapUsedBytes: 0,
      externalBytes: 0,
      arrayBuffersBytes: 0,
      cgroupWorkingSetBytes: undefined,
    }),
  });
  const transitions: number[] = [];
  monitor.on('level', (level: MemoryLevel) => transitions.push(level));
  for (const mib of [100, 730, 740, 870, 870, 500, 500]) {
    rss = mib * MiB;
    assert.equal(monitor.tick().pipelineBytes, 42);
  }
  assert.deepEqual(transitions, [MemoryLevel.WARNING, MemoryLevel.CRITICAL, MemoryLevel.NORMAL]);
});

test('one number derives the rest; the derived sizes keep the pipelines inside the limit', () => {
  for (const limit of [512, 768, 1024, 4096]) {
    const b = deriveBudget(limit * MiB, 'default');
    const held = 2 * b.batchMaxBytes * (b.maxInFlight + 2) + b.fetchMaxBytes;
    // An idle consumer (the runtime reserve and Kuzu's pool) is below WARNING at every limit.
    assert.ok(RUNTIME_RESERVE + b.kuzuBufferPoolBytes < b.resumeBytes, `${limit} MiB: idle is not NORMAL`);
    assert.ok(
      b.resumeBytes < b.warningBytes &&
        b.warningBytes < b.criticalBytes &&
        b.criticalBytes < b.emergencyBytes,
    );
    assert.ok(b.fetchMaxBytesPerPartition <= b.fetchMaxBytes);
    assert.ok(
      held <= b.dataBytes,
      `${limit} MiB: two pipelines hold at most ${held / MiB} MiB of ${b.dataBytes / MiB}`,
    );
  }
  const d = deriveBudget(1024 * MiB, 'default');
  assert.deepEqual([d.batchMaxBytes, d.fetchMaxBytes, d.maxInFlight], [16 * MiB, 8 * MiB, 2]);
  // LanceDB's caches fill with old table versions up to their size, so that size is RSS a long
  // run gains over a short one: kept small (bench:memory's growth).
  assert.deepEqual([d.lancedbIndexCacheBytes, d.lancedbMetadataCacheBytes], [8 * MiB, 8 * MiB]);
  const big = deriveBudget(16 * 1024 * MiB, 'default');
  assert.deepEqual([big.lancedbIndexCacheBytes, big.lancedbMetadataCacheBytes], [64 * MiB, 32 * MiB]);
});

test('the limit comes from the setting, else the cgroup (v2, then v1; "max" is unlimited), else 1 GiB', () => {
  const root = mkdtempSync(join(tmpdir(), 'cgroup-'));
  assert.equal(readCgroupLimit(root), undefined);
  mkdirSync(join(root, 'memory'));
  writeFileSync(join(root, 'memory', 'memory.limit_in_bytes'), '9223372036854771712\n');
  assert.equal(readCgroupLimit(root), undefined, 'v1 "unlimited"');
  writeFileSync(join(root, 'memory', 'memory.limit_in_bytes'), `${512 * MiB}\n`);
  assert.deepEqual(readCgroupLimit(root), { bytes: 512 * MiB, source: 'cgroup v1 memory.limit_in_bytes' });
  writeFileSync(join(root, 'memory.max'), 'max\n');
  assert.deepEqual(readCgroupLimit(root)?.source, 'cgroup v1 memory.limit_in_bytes');
  writeFileSync(join(root, 'memory.max'), `${300 * MiB}\n`);
  writeFileSync(join(root, 'memory.current'), `${200 * MiB}\n`);
  writeFileSync(join(root, 'memory.stat'), `anon 1\ninactive_file ${50 * MiB}\n`);
  assert.deepEqual(readCgroupLimit(root), { bytes: 300 * MiB, source: 'cgroup v2 memory.max' });
  assert.equal(readCgroupWorkingSet(root), 150 * MiB);
  assert.deepEqual(
    resolveLimit(64 * MiB, () => readCgroupLimit(root)),
    { bytes: 64 * MiB, source: 'VARSTREAM_MEMORY_LIMIT' },
  );
  assert.deepEqual(
    resolveLimit(undefined, () => undefined),
    { bytes: 1024 ** 3, source: 'default' },
  );
});

test('loadConfig derives unset sizes from VARSTREAM_MEMORY_LIMIT; explicit settings win', () => {
  const config = loadConfig({ env: { VARSTREAM_MEMORY_LIMIT: '768Mi', VARSTREAM_BATCH_MAX_IN_FLIGHT: '3' } });
  const b = config.memoryBudget;
  assert.ok(b);
  assert.equal(b.limitBytes, 768 * MiB);
  assert.equal(config.batch.maxBytes, b.batchMaxBytes);
  assert.equal(config.kafka.fetchMaxBytes, b.fetchMaxBytes);
  assert.equal(config.kuzu.bufferPoolBytes, b.kuzuBufferPoolBytes);
  assert.equal(config.batch.maxInFlight, 3);
});

test('adaptive batching: starts at the floor, grows while full batches are written fast, halves under pressure or slow writes, within bounds', () => {
  const a = new AdaptiveBatchSize({ ceilingRows: 1600, ceilingBytes: 16 * MiB });
  assert.deepEqual([a.maxRows, a.maxBytes], [400, 4 * MiB], 'a slow start');
  assert.equal(
    a.onBatch({ messages: 400, bytes: 0, millis: 3_000, pressure: false }),
    false,
    'not fast: stays',
  );
  assert.equal(
    a.onBatch({ messages: 400, bytes: 0, millis: 100, pressure: false }),
    true,
    'fast and full: grows',
  );
  assert.deepEqual([a.maxRows, a.maxBytes], [600, 6 * MiB]);
  for (let i = 0; i < 20; i++) a.onBatch({ messages: a.maxRows, bytes: 0, millis: 100, pressure: false });
  assert.deepEqual([a.maxRows, a.maxBytes], [1600, 16 * MiB], 'capped at the ceiling');
  assert.equal(
    a.onBatch({ messages: 10, bytes: 10, millis: 100, pressure: false }),
    false,
    'a small batch does not grow it',
  );
  a.onBatch({ messages: 1, bytes: 1, millis: 9_000, pressure: false });
  assert.deepEqual([a.maxRows, a.maxBytes], [800, 8 * MiB]);
  for (let i = 0; i < 20; i++) a.onBatch({ messages: 1, bytes: 1, millis: 10, pressure: true });
  assert.deepEqual([a.maxRows, a.maxBytes], [400, 4 * MiB], 'floored at 1/4');
  // An emergency halves the batcher's current size every second while it lasts: same floor.
  let size = { maxRows: 1600, maxBytes: 16 * MiB };
  for (let i = 0; i < 30; i++) size = a.halved(size);
  assert.deepEqual(size, { maxRows: 400, maxBytes: 4 * MiB }, 'an emergency stops at 1/4 too');
});
