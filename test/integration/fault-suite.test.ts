/**
 * The fault suite (the short form of `npm run chaos`): each scenario runs `varstream consume`
 * processes against the real broker while a producer sends, applies its fault, and checks the
 * stores and the dead-letter topic against the producer's ledger: every key stored exactly once
 * or dead-lettered with a reason, committed offsets at the end offsets, no consumer crash.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { runScenario, type ScenarioName } from '../../src/chaos/scenarios.ts';
import { ensureBroker } from '../helpers/kafka.ts';

before(() => {
  process.env.KAFKA_BROKERS = ensureBroker();
});

const options = { rounds: 2, messages: 1_500, hostile: 60, seed: 11 };

async function passes(name: ScenarioName, check?: (r: Awaited<ReturnType<typeof runScenario>>) => void) {
  const result = await runScenario(name, options);
  if (result.skipped) {
    assert.fail(`${name} did not run: ${result.skipped}`);
  }
  const summary = JSON.stringify({ ...result, problems: undefined });
  assert.deepEqual(result.problems, [], summary);
  assert.equal(result.lost, 0, summary);
  assert.equal(result.duplicates, 0, summary);
  assert.equal(result.crashes, 0, summary);
  assert.ok(result.committedAtEnd, summary);
  assert.equal(result.stored + result.deadLettered, result.produced, summary);
  check?.(result);
}

test('kill -9 mid-stream, restarted each time: nothing lost, nothing duplicated', { timeout: 240_000 }, () =>
  passes('kill-9', (r) => assert.equal(r.restarts, options.rounds)),
);

test('a group going from 1 to 3 members and back while the producer runs', { timeout: 240_000 }, () =>
  passes('group-1-3-1', (r) => assert.equal(r.restarts, 2)),
);

test('the broker stopped and restarted mid-stream', { timeout: 300_000 }, () => passes('broker-restart'));

test('a sink failing intermittently and rejecting some records', { timeout: 240_000 }, () =>
  passes('failing-sink', (r) => {
    assert.ok(r.deadLettered > 0, 'every 97th offset is rejected by the sinks');
    assert.deepEqual(Object.keys(r.codes), ['SINK_REJECTED']);
  }),
);

test(
  'hostile input on both topics is dead-lettered; valid input around it is stored',
  { timeout: 240_000 },
  () =>
    passes('hostile-input', (r) => {
      assert.equal(r.deadLettered, 2 * options.hostile);
      assert.ok(Object.keys(r.codes).length >= 5, `several codes: ${JSON.stringify(r.codes)}`);
    }),
);
