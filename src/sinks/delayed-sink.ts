/** A sink that waits before every write: a slow store on purpose (testing.sinkDelayMs). */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Sink, SinkBatch, SinkResult } from './sink.ts';

export class DelayedSink<P> implements Sink<P> {
  readonly name: string;

  constructor(
    private readonly inner: Sink<P>,
    private readonly delayMs: number,
  ) {
    this.name = inner.name;
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  async writeBatch(batch: SinkBatch<P>): Promise<SinkResult> {
    await sleep(this.delayMs);
    return this.inner.writeBatch(batch);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
