/** Each transition of the memory policy, against fake pipelines and a fake pause set. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryLevel } from '../../../src/backpressure/memory-monitor.ts';
import {
  heaviestPartitions,
  MemoryPolicy,
  type PolicyPipeline,
} from '../../../src/backpressure/memory-policy.ts';
import { createLogger } from '../../../src/core/logger.ts';
import type { PauseReason } from '../../../src/core/pause-reason.ts';

class FakePipeline implements PolicyPipeline {
  flushes = 0;
  size = 100;
  constructor(
    readonly topic: string,
    readonly bytesByPartition: Map<number, number>,
  ) {}
  flush() {
    this.flushes++;
  }
  restoreBatchSize() {
    this.size = 100;
  }
  halveBatchSize() {
    this.size = Math.max(25, this.size / 2);
  }
}

function setup() {
  let now = 0;
  const paused = new Map<string, Set<PauseReason>>();
  const pauses = {
    add: (topic: string, reason: PauseReason, partitions?: number[]) => {
      for (const p of partitions ?? ['*']) {
        const key = `${topic}/${p}`;
        paused.set(key, new Set([...(paused.get(key) ?? []), reason]));
      }
    },
    clear: (reason: PauseReason) => {
      for (const [key, reasons] of paused) {
        reasons.delete(reason);
        if (reasons.size === 0) paused.delete(key);
      }
    },
    paused: () => [...paused.keys()],
  };
  const variants = new FakePipeline(
    'variants',
    new Map([
      [0, 600],
      [1, 300],
      [2, 100],
    ]),
  );
  const embeddings = new FakePipeline('embeddings', new Map([[0, 50]]));
  const policy = new MemoryPolicy({
    pipelines: () => [variants, embeddings],
    pauses,
    logger: createLogger('silent'),
    now: () => now,
  });
  return { policy, paused, variants, embeddings, advance: (ms: number) => (now += ms) };
}

test('WARNING pauses the heaviest partitions, together at least half of what is held', () => {
  const { policy, paused } = setup();
  policy.onLevel(MemoryLevel.WARNING);
  assert.deepEqual([...paused.keys()], ['variants/0'], '600 of 1,050 bytes');
  assert.deepEqual(
    heaviestPartitions([
      new FakePipeline(
        't',
        new Map([
          [0, 10],
          [1, 10],
          [2, 10],
        ]),
      ),
    ]),
    new Map([['t', [0, 1]]]),
  );
});

test('CRITICAL pauses every topic and flushes every pipeline; NORMAL resumes them', () => {
  const { policy, paused, variants, embeddings } = setup();
  policy.onLevel(MemoryLevel.CRITICAL);
  assert.deepEqual([...paused.keys()].sort(), ['embeddings/*', 'variants/*']);
  assert.deepEqual([variants.flushes, embeddings.flushes], [1, 1]);
  assert.equal(variants.size, 100, 'CRITICAL does not shrink batches');
  policy.onLevel(MemoryLevel.NORMAL);
  assert.deepEqual([...paused.keys()], []);
});

test('EMERGENCY halves batch sizes at once and again every second, down to the floor; NORMAL restores them', () => {
  const { policy, variants, advance } = setup();
  policy.onLevel(MemoryLevel.EMERGENCY);
  assert.equal(variants.size, 50);
  advance(500);
  policy.onSample({ usedBytes: 1, pipelineBytes: 10 });
  assert.equal(variants.size, 50, 'not again within the second');
  advance(600);
  policy.onSample({ usedBytes: 1, pipelineBytes: 10 });
  assert.equal(variants.size, 25);
  advance(1100);
  policy.onSample({ usedBytes: 1, pipelineBytes: 10 });
  assert.equal(variants.size, 25, 'the floor');
  policy.onLevel(MemoryLevel.NORMAL);
  assert.equal(variants.size, 100);
});

test('memory held elsewhere: with nothing buffered for 5 s above NORMAL, memory pauses are released', () => {
  const { policy, paused, advance } = setup();
  policy.onLevel(MemoryLevel.CRITICAL);
  policy.onSample({ usedBytes: 900, pipelineBytes: 0 });
  advance(4_000);
  policy.onSample({ usedBytes: 900, pipelineBytes: 0 });
  assert.equal(paused.size, 2, 'still paused after 4 s');
  advance(2_000);
  policy.onSample({ usedBytes: 900, pipelineBytes: 0 });
  assert.equal(paused.size, 0, 'released after 6 s');
});

test('memory held elsewhere: bytes buffered again restart the 5 s', () => {
  const { policy, paused, advance } = setup();
  policy.onLevel(MemoryLevel.WARNING);
  policy.onSample({ usedBytes: 900, pipelineBytes: 0 });
  advance(4_000);
  policy.onSample({ usedBytes: 900, pipelineBytes: 5 });
  advance(2_000);
  policy.onSample({ usedBytes: 900, pipelineBytes: 0 });
  assert.equal(paused.size, 1, 'the clock restarted when bytes were held');
});
