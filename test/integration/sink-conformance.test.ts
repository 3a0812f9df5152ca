/**
 * The conformance suite every sink must pass (STYLE.md section 10), run against each sink of the
 * registry (src/sinks/registry.ts) on its real store on disk, through the harnesses of
 * test/helpers/sink-harnesses.ts, which read the stores back with the stores' own clients:
 * - a batch written twice (a redelivery) leaves the store unchanged;
 * - the last write of a key wins, within a batch and across batches;
 * - a record the store refuses is reported as such (RecordRejectedError), not as a store failure;
 * - close before start and close twice are safe;
 * - after a kill -9 in the middle of a write, a new sink over the same store starts, and the
 *   batches written again land once each.
 * Adding a sink: its folder, one registry line, one harness here.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EMBEDDING_SINKS, VARIANT_SINKS } from '../../src/sinks/names.ts';
import { type Record_, SINK_HARNESSES } from '../helpers/sink-harnesses.ts';

const CHILD = fileURLToPath(new URL('../helpers/sink-crash-child.ts', import.meta.url));
const fresh = () => mkdtempSync(join(tmpdir(), 'varstream-conformance-'));
const keysOf = (n: number, version: number, from = 1): Record_[] =>
  Array.from({ length: n }, (_, i) => [from + i, version] as const);

/** key -> versions, as an object for assert.deepEqual (only keys >= 0: the records themselves). */
function records(held: Map<number, number[]>): Record<number, number[]> {
  return Object.fromEntries([...held].filter(([k]) => k >= 0).sort(([a], [b]) => a - b));
}

/** Every stored copy (rows, edges) of each key holds one version each: no duplicates. */
function copiesPerKey(held: Map<number, number[]>): number[] {
  return [...new Set([...held.values()].map((v) => v.length))];
}

test('every registered sink has a conformance harness', () => {
  assert.deepEqual(
    Object.keys(SINK_HARNESSES).sort(),
    [
      ...VARIANT_SINKS.map((n) => (n === 'lancedb' ? 'lancedb-variants' : n)),
      ...EMBEDDING_SINKS.map((n) => `${n}-embeddings`),
    ].sort(),
  );
});

for (const harness of Object.values(SINK_HARNESSES)) {
  describe(`sink conformance: ${harness.name}`, () => {
    test('a redelivered batch leaves the store unchanged', async () => {
      const dir = fresh();
      const sink = harness.make(dir);
      await sink.start();
      try {
        const batch = harness.batch(1, 0, keysOf(50, 1));
        await sink.writeBatch(batch);
        const once = await harness.read(dir);
        await sink.writeBatch(harness.batch(1, 0, keysOf(50, 1)));
        assert.deepEqual(await harness.read(dir), once);
        assert.equal(Object.keys(records(once)).length, 50);
        assert.deepEqual(copiesPerKey(once), [1]);
      } finally {
        await sink.close();
      }
    });

    test('the last write of a key wins, within a batch and across batches', async () => {
      const dir = fresh();
      const sink = harness.make(dir);
      await sink.start();
      try {
        await sink.writeBatch(
          harness.batch(1, 0, [
            [1, 1],
            [2, 1],
            [1, 2],
          ]),
        );
        assert.deepEqual(records(await harness.read(dir)), { 1: [2], 2: [1] });
        await sink.writeBatch(
          harness.batch(2, 3, [
            [2, 3],
            [3, 3],
          ]),
        );
        const held = await harness.read(dir);
        assert.deepEqual(records(held), { 1: [2], 2: [3], 3: [3] });
        assert.deepEqual(copiesPerKey(held), [1]);
      } finally {
        await sink.close();
      }
    });

    const refused = harness.refused(1, 0);
    test('a record the store refuses is reported as refused (a `rejected` delivery)', {
      skip: typeof refused === 'string' ? refused : false,
    }, async () => {
      if (typeof refused === 'string') return;
      const sink = harness.make(fresh());
      await sink.start();
      try {
        const delivery = await sink.writeBatch(refused);
        assert.equal(delivery.status, 'rejected', `a rejection, got ${JSON.stringify(delivery)}`);
      } finally {
        await sink.close();
      }
    });

    test('close before start, and close twice, are safe', async () => {
      const unstarted = harness.make(fresh());
      await unstarted.close();
      const sink = harness.make(fresh());
      await sink.start();
      await sink.close();
      await sink.close();
    });

    test('after a kill -9 mid-write, a new sink starts and the rewritten batches land once', async () => {
      const dir = fresh();
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          CHILD,
          Object.keys(SINK_HARNESSES).find((k) => SINK_HARNESSES[k] === harness) as string,
          dir,
        ],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      for await (const line of createInterface({ input: child.stdout })) {
        if (line === 'writing 3') {
          child.kill('SIGKILL');
          break;
        }
      }
      await exited;
      const sink = harness.make(dir);
      await sink.start();
      try {
        for (let n = 1; n <= 3; n++)
          await sink.writeBatch(harness.batch(n, 200 * (n - 1), keysOf(200, n, 200 * n)));
      } finally {
        await sink.close();
      }
      const held = await harness.read(dir);
      const expected = Object.fromEntries(
        [1, 2, 3].flatMap((n) => keysOf(200, n, 200 * n).map(([k, v]) => [k, [v]])),
      );
      assert.deepEqual(records(held), expected);
      assert.deepEqual(copiesPerKey(held), [1]);
    });
  });
}
