/**
 * One open Kuzu database and connection. Kuzu allows one read-write process per database, and two
 * Database objects in one process must be avoided: the process opens one store and shares it.
 * Every QueryResult is closed before the next step (an unclosed one crashed the process on close).
 *
 * Native memory Kuzu 0.11 holds for an object's lifetime, whatever happens to the JS objects:
 * - every prepare()d statement (parse tree and plans, ~16 KiB), until the connection closes
 *   (`ClientContext::prepareWithParams` registers it in a map nothing removes from). So a
 *   long-running writer passes `params` only where it must (the graph sink's window bounds) and
 *   reopens the store after a bounded number of them (`preparedSinceOpen`).
 *   Re-executing one PreparedStatement instead is not safe: after a rolled-back transaction it
 *   failed about every other run with "Write-write conflict of updating the same row".
 * - ~290 KiB per CHECKPOINT, until the Database closes: `reopen()` returns most of it.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import kuzu from 'kuzu';

type Params = Record<string, kuzu.KuzuValue>;
export type Row = Record<string, kuzu.KuzuValue>;

export class KuzuStore {
  private database: kuzu.Database | undefined;
  private connection: kuzu.Connection | undefined;

  constructor(
    readonly path: string,
    private readonly bufferPoolBytes: number,
    /** Read-only opens may run beside other readers, but not beside the writer process. */
    private readonly readOnly = false,
  ) {}

  /** Connection settings (`CALL name=value`, constants only), applied now and at every open. */
  private settings: readonly string[] = [];

  async useSettings(settings: readonly string[]): Promise<void> {
    this.settings = settings;
    if (this.connection) for (const setting of settings) await this.run(setting);
  }

  async open(): Promise<void> {
    if (this.connection) return;
    if (!this.readOnly) mkdirSync(dirname(this.path), { recursive: true });
    this.database = new kuzu.Database(this.path, this.bufferPoolBytes, true, this.readOnly);
    await this.database.init();
    this.connection = new kuzu.Connection(this.database);
    this.preparedSinceOpen = 0;
    for (const setting of this.settings) await this.run(setting);
  }

  /** Statements prepared since the connection opened: Kuzu holds each (~16-21 KiB) until it closes. */
  preparedSinceOpen = 0;

  /** Runs one statement (parameterised when `params` is given) and returns its rows. */
  async run(statement: string, params?: Params): Promise<Row[]> {
    const connection = this.requireConnection();
    if (params) this.preparedSinceOpen++;
    const result = params
      ? await connection.execute(await connection.prepare(statement), params)
      : await connection.query(statement);
    const results = Array.isArray(result) ? result : [result];
    const rows: Row[] = [];
    try {
      for (const r of results) rows.push(...(await r.getAll()));
    } finally {
      for (const r of results) r.close();
    }
    return rows;
  }

  /** Runs `work` inside one transaction: all of it commits, or none of it. */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    await this.run('BEGIN TRANSACTION');
    try {
      const value = await work();
      await this.run('COMMIT');
      return value;
    } catch (error) {
      // Kuzu rolls back by itself when a statement fails; ROLLBACK then has nothing to undo.
      await this.run('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  async count(pattern: string): Promise<number> {
    const rows = await this.run(`MATCH ${pattern} RETURN count(*) AS n`);
    return Number(rows[0]?.n ?? 0);
  }

  /** Closes and opens the database again: most of what Kuzu held for the Database's lifetime returns. */
  async reopen(): Promise<void> {
    await this.close();
    await this.open();
  }

  async close(): Promise<void> {
    const { connection, database } = this;
    this.connection = undefined;
    this.database = undefined;
    await connection?.close();
    await database?.close();
  }

  private requireConnection(): kuzu.Connection {
    if (!this.connection) throw new Error(`Kuzu database ${this.path} is not open`);
    return this.connection;
  }
}
