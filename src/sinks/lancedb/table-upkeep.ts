/**
 * Keeps a LanceDB table healthy as the stream grows it. Every merge-insert commits a new version
 * and new small fragments; left alone, reads slow down and old versions fill the disk.
 *
 * - Every `optimizeEveryWrites` writes, `optimize()` compacts small fragments, folds new rows into
 *   existing indices and deletes versions older than `versionRetentionMs`. The count survives a
 *   restart: `start()` begins it at the table's uncompacted fragments (about one per merge-insert
 *   since the last compaction), so a consumer restarted more often than every that many writes
 *   still compacts, and one that finds that many compacts after its first write. It runs in the sink's
 *   own queue *between* batches: LanceDB rejects a compaction that races a concurrent update
 *   ("Rewrite preempted by Update", measured), so it must not run beside a write. While it runs,
 *   the next batch of this sink waits; the pipeline's byte budget bounds what accumulates.
 * - Once the table holds `indexMinRows` rows, a vector index is built in the background. Index
 *   creation does not conflict with concurrent merge-inserts (measured), so writes and commits go
 *   on while it trains; optimize() is skipped until it finishes.
 */
import * as lancedb from '@lancedb/lancedb';
import type { Logger } from '../../core/logger.ts';
import type { DistanceType, VectorIndexType } from './options.ts';

export interface UpkeepPolicy {
  /** Writes between two optimize() runs; 0 disables compaction and cleanup. */
  optimizeEveryWrites: number;
  /** Versions older than this are deleted by optimize(). */
  versionRetentionMs: number;
  /** Build the vector index once the table has this many rows (0: never). */
  indexMinRows: number;
  indexType: VectorIndexType;
  distance: DistanceType;
}

export interface UpkeepEvent {
  action: 'optimize' | 'index';
  millis: number;
  table: string;
  error?: string;
}

export class TableUpkeep {
  /** Writes since the last optimize(), as far as this process or the table's fragments tell. */
  private sinceOptimize = 0;
  private indexing: Promise<void> | undefined;
  private indexed = false;
  private approxRows = 0;

  constructor(
    private readonly table: lancedb.Table,
    private readonly policy: UpkeepPolicy,
    private readonly log: Logger,
    /** The vector column to index, or undefined for a table without vectors. */
    private readonly vectorColumn?: string,
    private readonly onEvent?: (event: UpkeepEvent) => void,
  ) {}

  async start(): Promise<void> {
    if (this.policy.optimizeEveryWrites > 0) {
      try {
        const { fragmentStats } = await this.table.stats();
        this.sinceOptimize = Math.min(this.policy.optimizeEveryWrites, fragmentStats.numSmallFragments);
      } catch (error) {
        // Best effort, as upkeep is: counting from zero only delays the first compaction.
        this.log.warn(
          { table: this.table.name, err: error },
          'table stats unreadable; compaction counts from zero',
        );
      }
    }
    if (!this.vectorColumn) return;
    const indices = await this.table.listIndices();
    this.indexed = indices.some((i) => i.columns.includes(this.vectorColumn as string));
    this.approxRows = await this.table.countRows();
  }

  /** Called by the sink after each successful write, inside its write queue. */
  async afterWrite(rows: number): Promise<void> {
    this.sinceOptimize++;
    this.approxRows += rows;
    this.maybeIndex();
    const every = this.policy.optimizeEveryWrites;
    if (every > 0 && this.sinceOptimize >= every && !this.indexing) await this.optimize();
  }

  async optimize(): Promise<void> {
    // A failed run is retried after as many writes again, not after every write.
    this.sinceOptimize = 0;
    const started = performance.now();
    try {
      const stats = await this.table.optimize({
        cleanupOlderThan: new Date(Date.now() - this.policy.versionRetentionMs),
      });
      const millis = performance.now() - started;
      this.log.info({ table: this.table.name, millis: Math.round(millis), stats }, 'optimized table');
      this.onEvent?.({ action: 'optimize', millis, table: this.table.name });
    } catch (error) {
      // Upkeep is best effort: the data is already committed; the next round tries again.
      const millis = performance.now() - started;
      this.log.warn({ table: this.table.name, err: error }, 'table optimize failed; will retry later');
      this.onEvent?.({ action: 'optimize', millis, table: this.table.name, error: String(error) });
    }
  }

  private maybeIndex(): void {
    const { indexMinRows, indexType } = this.policy;
    if (!this.vectorColumn || this.indexed || this.indexing || indexType === 'none' || indexMinRows <= 0)
      return;
    if (this.approxRows < indexMinRows) return;
    this.indexing = this.buildIndex().finally(() => {
      this.indexing = undefined;
    });
  }

  private async buildIndex(): Promise<void> {
    const started = performance.now();
    const table = this.table.name;
    try {
      const rows = await this.table.countRows();
      this.approxRows = rows;
      if (rows < this.policy.indexMinRows) return;
      this.log.info({ table, rows, type: this.policy.indexType }, 'building vector index in the background');
      await this.table.createIndex(this.vectorColumn as string, { config: this.indexConfig(rows) });
      this.indexed = true;
      const millis = performance.now() - started;
      this.log.info({ table, rows, millis: Math.round(millis) }, 'vector index built');
      this.onEvent?.({ action: 'index', millis, table });
    } catch (error) {
      const millis = performance.now() - started;
      this.log.warn({ table, err: error }, 'vector index build failed; will retry after more writes');
      this.onEvent?.({ action: 'index', millis, table, error: String(error) });
      this.approxRows = 0;
    }
  }

  private indexConfig(rows: number): lancedb.Index {
    const distanceType = this.policy.distance;
    switch (this.policy.indexType) {
      case 'ivf_pq':
        // About sqrt(rows) partitions, as LanceDB recommends.
        return lancedb.Index.ivfPq({ distanceType, numPartitions: Math.max(1, Math.round(Math.sqrt(rows))) });
      case 'hnsw_pq':
        return lancedb.Index.hnswPq({ distanceType });
      default:
        return lancedb.Index.hnswSq({ distanceType });
    }
  }
}
