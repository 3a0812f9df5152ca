import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MeasuredConsumer } from '../../../src/bench/child-process.ts';

test('--wrap runs the measured command under the wrapper, in the same process', async () => {
  const child = new MeasuredConsumer(
    {},
    {
      command: process.execPath,
      args: ['-e', 'console.log(JSON.stringify({ msg: process.env.WRAPPED + ":" + process.pid }))'],
      wrap: ['env', 'WRAPPED=yes'],
    },
  );
  const { exitCode } = await child.waitExit(30_000);
  assert.equal(exitCode, 0);
  // `env` execs node: the pid the child reports is the one the bench measures.
  assert.deepEqual([...child.messages.keys()], [`yes:${child.child.pid}`]);
});
