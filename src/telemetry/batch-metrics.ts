/** The batch metrics (docs/telemetry.md): rows per sink, write durations, dead letters, retries, batches. */
import type { BatchInstruments, BatchObserver, BatchStart } from './instruments.ts';
import type { ConsumerMetrics } from './metrics.ts';

export class BatchMetrics implements BatchInstruments {
  constructor(private readonly metrics: ConsumerMetrics) {}

  startBatch(batch: BatchStart): BatchObserver {
    const { metrics } = this;
    const { topic } = batch;
    const started = performance.now();
    let done = false;
    return {
      async writeSink(sink, write) {
        const began = performance.now();
        try {
          const result = await write();
          metrics.rowsWrittenBy(topic, sink, result.written);
          metrics.sinkWritten({ topic, sink, seconds: (performance.now() - began) / 1000 });
          return result;
        } catch (error) {
          metrics.sinkWritten({ topic, sink, seconds: (performance.now() - began) / 1000, error });
          throw error;
        }
      },
      async publishDeadLetters(letters, publish) {
        const result = await publish();
        const byCode = new Map<string, number>();
        for (const { code } of letters) byCode.set(code, (byCode.get(code) ?? 0) + 1);
        for (const [code, n] of byCode) metrics.deadLettered(topic, code, n);
        return result;
      },
      retry(sink) {
        metrics.sinkRetried(topic, sink);
      },
      rejected() {},
      end() {
        if (done) return;
        done = true;
        metrics.batchProcessed({ ...batch, seconds: (performance.now() - started) / 1000 });
      },
      fail(error) {
        if (done) return;
        done = true;
        metrics.batchProcessed({ ...batch, seconds: (performance.now() - started) / 1000, error });
      },
    };
  }
}
