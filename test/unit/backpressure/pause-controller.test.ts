import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PauseController } from '../../../src/backpressure/pause-controller.ts';
import { PauseReason } from '../../../src/core/pause-reason.ts';

function recorder() {
  const calls: string[] = [];
  const controller = new PauseController({
    pause: (topic, partitions) => calls.push(`pause ${topic} ${partitions.join(',')}`),
    resume: (topic, partitions) => calls.push(`resume ${topic} ${partitions.join(',')}`),
  });
  controller.setAssignment('t', [0, 1, 2]);
  return { calls, controller };
}

test('a partition pauses on its first reason and resumes only when the last clears', () => {
  const { calls, controller } = recorder();
  controller.add('t', PauseReason.MEMORY, [1]);
  controller.add('t', PauseReason.SINK_FAILURE);
  controller.remove('t', PauseReason.MEMORY, [1]);
  assert.deepEqual(controller.reasonsOf('t', 1), [PauseReason.SINK_FAILURE]);
  controller.remove('t', PauseReason.SINK_FAILURE);
  assert.deepEqual(calls, ['pause t 1', 'pause t 0,2', 'resume t 0,1,2']);
  assert.deepEqual(controller.paused(), []);
});

test('adding a reason twice or removing an absent one calls nothing', () => {
  const { calls, controller } = recorder();
  controller.add('t', PauseReason.BUFFER_FULL);
  controller.add('t', PauseReason.BUFFER_FULL);
  controller.remove('t', PauseReason.MEMORY);
  controller.remove('t', PauseReason.MEMORY, [0]);
  assert.deepEqual(calls, ['pause t 0,1,2']);
});

test('every reason, topic-wide or per partition, resumes when cleared: nothing stays paused', () => {
  for (const reason of Object.values(PauseReason)) {
    for (const partitions of [undefined, [0], [1, 2]]) {
      const { controller } = recorder();
      controller.add('t', reason, partitions);
      assert.ok(controller.paused().length > 0, `${reason} ${partitions} pauses`);
      controller.clear(reason);
      assert.deepEqual(controller.paused(), [], `${reason} ${partitions} resumes`);
    }
  }
});

test('a topic-wide reason set before the group join pauses the partitions assigned later', () => {
  const calls: string[] = [];
  const controller = new PauseController({
    pause: (topic, partitions) => calls.push(`pause ${topic} ${partitions.join(',')}`),
    resume: (topic, partitions) => calls.push(`resume ${topic} ${partitions.join(',')}`),
  });
  controller.add('t', PauseReason.SINK_FAILURE);
  assert.deepEqual(calls, []);
  controller.setAssignment('t', [3, 4]);
  assert.deepEqual(calls, ['pause t 3,4']);
});

test('after a rebalance, reasons of partitions no longer owned are dropped', () => {
  const { controller } = recorder();
  controller.add('t', PauseReason.MEMORY, [2]);
  controller.setAssignment('t', [0, 1]);
  controller.setAssignment('t', [0, 1, 2]);
  assert.equal(controller.isPaused('t', 2), false);
});
