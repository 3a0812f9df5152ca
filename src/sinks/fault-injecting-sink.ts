/**
 * Test-only fault injection (testing.sinkFailureRate, testing.sinkRejectEvery): a sink that fails
 * some writes on purpose, to prove what the pipeline does with failing stores.
 *
 * - failureRate: each write attempt fails first, with this probability, with a transient
 *   (`retry`) delivery: the store "comes back" on a later attempt.
 * - rejectEvery N: the sink refuses, as content (a `rejected` delivery), any batch whose offset
 *   ranges include an offset o with o % N === N - 1. Split down to one message, exactly those
 *   messages are refused, so the dead letters they become are predictable.
 */
import { type Delivery, deliver, type Sink, type SinkBatch } from '../core/sink.ts';

export interface InjectedFaults {
  failureRate: number;
  rejectEvery: number;
  random?: () => number;
}

export class FaultInjectingSink<P> implements Sink<P> {
  readonly name: string;

  constructor(
    private readonly inner: Sink<P>,
    private readonly faults: InjectedFaults,
  ) {
    this.name = inner.name;
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  async writeBatch(batch: SinkBatch<P>): Promise<Delivery> {
    const { failureRate, rejectEvery } = this.faults;
    if (failureRate > 0 && (this.faults.random ?? Math.random)() < failureRate)
      return deliver.retry(`injected transient failure (batch ${batch.id})`);
    if (rejectEvery > 0) {
      for (const { partition, first, last } of batch.ranges) {
        // The first offset o >= first with o % N === N - 1.
        const hit = first + ((rejectEvery - 1 - (first % rejectEvery)) % rejectEvery);
        if (hit <= last)
          return deliver.rejected(`injected rejection of partition ${partition} offset ${hit}`);
      }
    }
    return this.inner.writeBatch(batch);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
