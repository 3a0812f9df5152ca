/**
 * The runner (PipelineConsumer) driven through a fake Source, without a broker: decode, batch,
 * write, dead-letter and commit; a stale batch is abandoned where it went stale; a fatal client
 * error fails the consumer; pauses reach the source per partition.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VariantBatch } from '../../../src/batching/variant-batch.ts';
import { type Config, type ConfigOverrides, loadConfig } from '../../../src/config/index.ts';
import { PipelineConsumer } from '../../../src/consumers/pipeline-consumer.ts';
import { decodeVariantMessage } from '../../../src/contract/variant-decoder.ts';
import { createLogger } from '../../../src/core/logger.ts';
import type { DeadLetter } from '../../../src/core/messages.ts';
import { deliver, type Sink, type SinkBatch } from '../../../src/core/sink.ts';
import type { OffsetCommit, Source, SourceHandlers } from '../../../src/core/source.ts';
import { waitFor } from '../../helpers/wait.ts';

const TOPIC = 'variants';

class FakeSource implements Source {
  handlers: SourceHandlers | undefined;
  generation = 0;
  readonly commits: OffsetCommit[] = [];
  readonly pauses: string[] = [];
  async run(_topics: readonly string[], handlers: SourceHandlers) {
    this.handlers = handlers;
    this.join();
  }
  join() {
    this.generation++;
    this.handlers?.assigned({ [TOPIC]: [0, 1] });
  }
  /** Hands out one batch; `staleAfter` messages in, the generation moves on. */
  async deliver(
    partition: number,
    values: Array<string | null>,
    first = 0,
    staleAfter = Number.POSITIVE_INFINITY,
  ) {
    const generation = this.generation;
    let taken = 0;
    await this.handlers?.batch({
      topic: TOPIC,
      partition,
      messages: values.map((v, i) => ({
        partition,
        offset: first + i,
        timestamp: '0',
        key: null,
        value: v === null ? null : Buffer.from(v),
        headers: {},
      })),
      resolve: () => {
        if (++taken >= staleAfter) this.join();
      },
      heartbeat: async () => undefined,
      live: () => this.generation === generation,
    });
  }
  pause(topic: string, partitions?: readonly number[]) {
    this.pauses.push(`pause ${topic} ${partitions?.join(',') ?? '*'}`);
  }
  resume(topic: string, partitions: readonly number[]) {
    this.pauses.push(`resume ${topic} ${partitions.join(',')}`);
  }
  async commitOffsets(offsets: OffsetCommit[]) {
    this.commits.push(...offsets);
  }
  async disconnect() {}
}

class RecordingSink implements Sink<VariantBatch> {
  readonly name = 'recording';
  readonly ids: string[] = [];
  async start() {}
  async close() {}
  async writeBatch(batch: SinkBatch<VariantBatch>) {
    this.ids.push(...batch.payload.variants.variantId);
    return deliver.written(batch.payload.variants.length);
  }
}

function setup(overrides: ConfigOverrides = {}) {
  const config: Config = loadConfig({
    env: {},
    overrides: {
      batch: { lingerMs: 10, adaptive: false, maxRows: 100 },
      topics: { variants: TOPIC },
      ...overrides,
    },
  });
  const source = new FakeSource();
  const sink = new RecordingSink();
  const letters: DeadLetter[] = [];
  const consumer = new PipelineConsumer({
    config,
    logger: createLogger('silent'),
    source,
    deadLetters: { publish: async (l) => void letters.push(...l) },
    pipelines: [
      {
        topic: TOPIC,
        decode: (m) => decodeVariantMessage(m.value),
        newPayload: () => new VariantBatch(),
        sinks: [sink],
      },
    ],
  });
  return { consumer, source, sink, letters };
}

const site = (pos: number) => JSON.stringify({ chrom: '1', pos, ref: 'A', alt: 'G' });

test('valid messages are written, bad ones dead-lettered, and the end is committed', async () => {
  const { consumer, source, sink, letters } = setup();
  await consumer.start();
  await source.deliver(0, [site(1), '{"chrom":', site(2), null]);
  await waitFor(() => source.commits.some((c) => c.partition === 0 && c.offset === '4'), {
    timeoutMs: 5_000,
    message: 'offset 4 of partition 0 committed',
  });
  assert.deepEqual(sink.ids, ['1-1-A-G', '1-2-A-G']);
  assert.deepEqual(
    letters.map((l) => [l.offset, l.code]),
    [
      [1, 'INVALID_JSON'],
      [3, 'EMPTY_VALUE'],
    ],
  );
  assert.deepEqual(consumer.stats.deadLetters, { INVALID_JSON: 1, EMPTY_VALUE: 1 });
  assert.equal(await consumer.stop(), true);
});

test('a batch that goes stale is abandoned where it did, and nothing of the old generation commits', async () => {
  const { consumer, source, sink } = setup();
  await consumer.start();
  await source.deliver(1, [site(1), site(2), site(3), site(4)], 0, 2);
  assert.equal(await consumer.stop(), true);
  // The two messages taken before the rejoin were in the filling batch, which the rejoin drops:
  // the new generation re-reads them from the committed offset. The rest was never taken.
  assert.deepEqual(sink.ids, []);
  assert.deepEqual(source.commits, [], 'completions of the old generation are ignored');
});

test('the client giving up fails the consumer', async () => {
  const { consumer, source } = setup();
  const failed: unknown[] = [];
  consumer.on('failed', (e) => failed.push(e));
  await consumer.start();
  source.handlers?.fatal(new Error('gave up'));
  assert.equal(failed.length, 1);
  assert.match(String(consumer.failure), /gave up/);
  await consumer.stop();
});

test('a full buffer pauses the topic at the source and resumes it once written', async () => {
  const { consumer, source } = setup({
    batch: { lingerMs: 10, adaptive: false, maxRows: 1, maxInFlight: 1, maxBytes: '1Ki' },
  });
  await consumer.start();
  await source.deliver(
    0,
    // 1.1 KB each against a budget of 3 KiB (maxBytes x (maxInFlight + 2)).
    Array.from({ length: 6 }, (_, i) =>
      JSON.stringify({ chrom: '1', pos: i + 1, ref: 'A', alt: 'G', info: { PAD: 'x'.repeat(1100) } }),
    ),
  );
  await waitFor(() => source.commits.some((c) => c.offset === '6'), {
    timeoutMs: 5_000,
    message: 'all committed',
  });
  assert.ok(
    source.pauses.some((p) => p.startsWith('pause variants 0,1')),
    source.pauses.join('; '),
  );
  assert.ok(
    source.pauses.some((p) => p.startsWith('resume variants 0,1')),
    source.pauses.join('; '),
  );
  await consumer.stop();
});
