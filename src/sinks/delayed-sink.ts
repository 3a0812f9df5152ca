/**
 * A sink that waits before every write: a slow store on purpose (testing.sinkDelayMs). With
 * testing.sinkBallastBytes it also holds that many bytes, touched, while it waits: a store whose
 * working set rises while it writes, which is what the memory monitor's levels are for.
 *
 * Like a native store, it cannot close while a write is running: `close` waits for running writes
 * (so a stop with a write stuck here shows that the grace period still bounds the stop).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../telemetry/logger.ts';
import type { Sink, SinkBatch, SinkResult } from './sink.ts';

export class DelayedSink<P> implements Sink<P> {
  readonly name: string;
  private readonly held = new Set<Buffer>();
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly inner: Sink<P>,
    private readonly delayMs: number,
    private readonly ballastBytes = 0,
    private readonly logger?: Logger,
  ) {
    this.name = inner.name;
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  writeBatch(batch: SinkBatch<P>): Promise<SinkResult> {
    const write = this.delayedWrite(batch);
    this.running.add(write);
    return write.finally(() => this.running.delete(write));
  }

  private async delayedWrite(batch: SinkBatch<P>): Promise<SinkResult> {
    // Buffer.alloc zero-fills, so the pages are resident; released when the write returns.
    const ballast = Buffer.alloc(this.ballastBytes, 1);
    this.held.add(ballast);
    this.logger?.debug(
      { sink: this.name, batch: batch.id, delayMs: this.delayMs },
      'test sink: write delayed',
    );
    try {
      await sleep(this.delayMs);
      return await this.inner.writeBatch(batch);
    } finally {
      this.held.delete(ballast);
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.running]);
    await this.inner.close();
  }
}
