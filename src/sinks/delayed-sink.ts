/**
 * A sink that waits before every write: a slow store on purpose (testing.sinkDelayMs). With
 * testing.sinkBallastBytes it also holds that many bytes, touched, while it waits: a store whose
 * working set rises while it writes, which is what the memory monitor's levels are for.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Sink, SinkBatch, SinkResult } from './sink.ts';

export class DelayedSink<P> implements Sink<P> {
  readonly name: string;
  private readonly held = new Set<Buffer>();

  constructor(
    private readonly inner: Sink<P>,
    private readonly delayMs: number,
    private readonly ballastBytes = 0,
  ) {
    this.name = inner.name;
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  async writeBatch(batch: SinkBatch<P>): Promise<SinkResult> {
    // Buffer.alloc zero-fills, so the pages are resident; released when the write returns.
    const ballast = Buffer.alloc(this.ballastBytes, 1);
    this.held.add(ballast);
    try {
      await sleep(this.delayMs);
      return await this.inner.writeBatch(batch);
    } finally {
      this.held.delete(ballast);
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
