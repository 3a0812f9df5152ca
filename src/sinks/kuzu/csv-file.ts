/**
 * Writes the CSV files the Kuzu sink loads with `LOAD WITH HEADERS ... FROM`. Values reach Kuzu
 * only through these files (or as query parameters), never spliced into query text.
 * Quoting: RFC 4180 (`"` doubled); an empty field is NULL to Kuzu.
 */
import { writeFile } from 'node:fs/promises';

type Cell = string | number | null | undefined;

export class CsvFile {
  private readonly lines: string[];
  /** Kuzu's parallel CSV reader rejects quoted newlines; the sink turns it off when needed. */
  hasNewlines = false;

  constructor(
    readonly path: string,
    header: readonly string[],
  ) {
    this.lines = [header.join(',')];
  }

  row(cells: readonly Cell[]): void {
    let line = '';
    for (let i = 0; i < cells.length; i++) {
      if (i > 0) line += ',';
      line += this.cell(cells[i]);
    }
    this.lines.push(line);
  }

  get rows(): number {
    return this.lines.length - 1;
  }

  /** Characters staged (about the bytes written; the checkpoint policy counts them). */
  get size(): number {
    let n = 0;
    for (const line of this.lines) n += line.length + 1;
    return n;
  }

  async write(): Promise<void> {
    await writeFile(this.path, `${this.lines.join('\n')}\n`);
  }

  private cell(value: Cell): string {
    if (value === null || value === undefined) return '';
    if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
    if (value === '') return '""';
    if (!/[",\n\r]/.test(value) && value.trim() === value) return value;
    if (/[\n\r]/.test(value)) this.hasNewlines = true;
    return `"${value.replaceAll('"', '""')}"`;
  }
}
