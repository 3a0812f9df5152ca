import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PauseController, PauseReason } from '../../../src/backpressure/pause-controller.ts';

function recorder() {
  const calls: string[] = [];
  const controller = new PauseController({
    pause: (topic) => calls.push(`pause ${topic}`),
    resume: (topic) => calls.push(`resume ${topic}`),
  });
  return { calls, controller };
}

test('the first reason pauses, the last one resumes', () => {
  const { calls, controller } = recorder();
  controller.add('variants', PauseReason.BUFFER_FULL);
  controller.add('variants', PauseReason.SINK_FAILURE);
  assert.deepEqual(calls, ['pause variants']);
  controller.remove('variants', PauseReason.BUFFER_FULL);
  assert.deepEqual(calls, ['pause variants'], 'still paused for the failing sink');
  assert.deepEqual(controller.reasonsOf('variants'), [PauseReason.SINK_FAILURE]);
  controller.remove('variants', PauseReason.SINK_FAILURE);
  assert.deepEqual(calls, ['pause variants', 'resume variants']);
  assert.equal(controller.isPaused('variants'), false);
});

test('repeating a reason or removing an absent one changes nothing', () => {
  const { calls, controller } = recorder();
  controller.remove('variants', PauseReason.BUFFER_FULL);
  controller.add('variants', PauseReason.BUFFER_FULL);
  controller.add('variants', PauseReason.BUFFER_FULL);
  controller.remove('variants', PauseReason.BUFFER_FULL);
  controller.remove('variants', PauseReason.BUFFER_FULL);
  assert.deepEqual(calls, ['pause variants', 'resume variants']);
});

test('topics are paused independently', () => {
  const { calls, controller } = recorder();
  controller.add('a', PauseReason.BUFFER_FULL);
  controller.add('b', PauseReason.BUFFER_FULL);
  controller.remove('a', PauseReason.BUFFER_FULL);
  assert.deepEqual(calls, ['pause a', 'pause b', 'resume a']);
  assert.equal(controller.isPaused('b'), true);
});
