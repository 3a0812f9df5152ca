/**
 * The crash case of the sink conformance suite: writes batches of 200 records (batch n holds keys
 * 200n .. 200n + 199, version n) through one harness's sink until it is killed, printing
 * `writing N` before each write and `wrote N` after it.
 */
import { SINK_HARNESSES } from './sink-harnesses.ts';

const [name, dir] = process.argv.slice(2);
const harness = SINK_HARNESSES[name as string];
if (!harness || !dir)
  throw new Error(`usage: sink-crash-child.ts HARNESS DIR (${Object.keys(SINK_HARNESSES)})`);
const sink = harness.make(dir);
await sink.start();
for (let n = 1; ; n++) {
  const records = Array.from({ length: 200 }, (_, i) => [200 * n + i, n] as const);
  process.stdout.write(`writing ${n}\n`);
  await sink.writeBatch(harness.batch(n, 200 * (n - 1), records));
  process.stdout.write(`wrote ${n}\n`);
}
