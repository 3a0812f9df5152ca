/**
 * A sink that waits before every write: a slow store on purpose (testing.sinkDelayMs). With
 * testing.sinkBallastRssBytes it also holds memory, touched, while it waits and writes, enough to
 * bring the process's RSS up to that figure: a store whose working set rises while it writes,
 * which is what the memory monitor's levels are for. (A target rather than a fixed size, so that
 * the test's pressure does not depend on what the rest of the process holds that moment.)
 *
 * The ballast lives in a worker thread that is terminated when the write returns, so it is freed
 * at once, as a native store frees its working set. (A Buffer in this isolate would be freed only
 * by a later GC: two or three dead ballasts then stayed resident together, which measured the
 * test harness, not the consumer.)
 *
 * Like a native store, it cannot close while a write is running: `close` waits for running writes
 * (so a stop with a write stuck here shows that the grace period still bounds the stop).
 */
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../core/logger.ts';
import type { Delivery, Sink, SinkBatch } from '../core/sink.ts';

export class DelayedSink<P> implements Sink<P> {
  readonly name: string;
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly inner: Sink<P>,
    private readonly delayMs: number,
    private readonly ballastRssBytes = 0,
    private readonly logger?: Logger,
  ) {
    this.name = inner.name;
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  writeBatch(batch: SinkBatch<P>): Promise<Delivery> {
    const write = this.delayedWrite(batch);
    this.running.add(write);
    return write.finally(() => this.running.delete(write));
  }

  private async delayedWrite(batch: SinkBatch<P>): Promise<Delivery> {
    this.logger?.debug(
      { sink: this.name, batch: batch.id, delayMs: this.delayMs },
      'test sink: write delayed',
    );
    const bytes = this.ballastRssBytes - process.memoryUsage.rss();
    const ballast = this.ballastRssBytes > 0 && bytes > 0 ? holdBallast(bytes) : undefined;
    try {
      await Promise.all([sleep(this.delayMs), ballast?.held]);
      return await this.inner.writeBatch(batch);
    } finally {
      await ballast?.release();
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.running]);
    await this.inner.close();
  }
}

/** Filled (so resident) bytes held by a worker thread until `release` terminates it. */
function holdBallast(bytes: number): { held: Promise<unknown>; release(): Promise<unknown> } {
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     globalThis.ballast = Buffer.alloc(workerData, 1);
     parentPort.postMessage('held');`,
    { eval: true, workerData: bytes },
  );
  return { held: once(worker, 'message'), release: () => worker.terminate() };
}
