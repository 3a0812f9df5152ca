/**
 * Streaming VCF reader: plain text, plain gzip or BGZF (bgzip), detected from the
 * file's first bytes rather than its name. Lines are split as the bytes arrive, so
 * memory holds one read chunk plus the current line (a line can be megabytes long);
 * the header is parsed by @gmod/vcf, which also parses each record.
 *
 * The record count is not known up front; `bytesRead` / `fileSize` give a caller progress and an
 * ETA. For a compressed file `bytesRead` counts the compressed bytes the decompressor consumed
 * (not those read ahead from disk, which ran ~10% ahead, and all of a small file at once).
 *
 * Long file: streaming decompression (plain, gzip, bgzip), line splitting, header parsing and
 * per-line error reporting of one reader.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import VCF, { type Variant } from '@gmod/vcf';

export type VcfCompression = 'none' | 'gzip' | 'bgzf';

/** One parsed data line; sample columns are parsed lazily by its methods. */
export type VcfRecord = Variant;

export interface VcfHeader {
  /** The @gmod/vcf parser, for `getMetadata('INFO', id, ...)` lookups. */
  readonly parser: VCF;
  /** Sample names in column order; empty for a sites-only VCF. */
  readonly samples: readonly string[];
  /** Raw header lines, `##...` lines then the `#CHROM` line. */
  readonly lines: readonly string[];
  /** The `##fileformat` value, e.g. `VCFv4.2`. */
  readonly fileformat: string | undefined;
}

export interface VcfProgress {
  /** Size of the file on disk (compressed size for .gz). */
  readonly fileSize: number;
  /** Bytes read from disk so far (compressed bytes for .gz); runs slightly ahead of parsing. */
  readonly bytesRead: number;
  /** Data records yielded so far. */
  readonly recordsRead: number;
  /** 1-based number of the last line read from the (decompressed) text. */
  readonly lineNumber: number;
}

export interface VcfReader extends VcfProgress, AsyncIterable<VcfRecord> {
  readonly path: string;
  readonly compression: VcfCompression;
  readonly header: VcfHeader;
  /** True once the file is released: after the last record, a break out of the loop, or close(). */
  readonly closed: boolean;
  /** Stops reading and releases the file; safe to call more than once. */
  close(): void;
}

export interface ReadVcfOptions {
  /** Passed to @gmod/vcf: reject data lines without an INFO column (default true). */
  strict?: boolean;
  /** Aborts the read; the iteration then rejects with an AbortError. */
  signal?: AbortSignal;
  /** Bytes per disk read (default 256 KiB). */
  chunkSize?: number;
  /** Called once, before the first record, with the header and the live reader for progress. */
  onHeader?: (header: VcfHeader, reader: VcfReader) => void;
  /**
   * With this, a data line that cannot be parsed is reported here and skipped; without it, the
   * iteration rejects with the VcfParseError.
   */
  onBadRecord?: (error: VcfParseError) => void;
}

/** A data line @gmod/vcf could not parse, with where it was. */
export class VcfParseError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly lineNumber: number,
    options?: ErrorOptions,
  ) {
    super(`${path}:${lineNumber}: ${message}`, options);
    this.name = 'VcfParseError';
  }
}

const DEFAULT_CHUNK = 256 * 1024;

/** Detects gzip (magic 1f 8b) and BGZF (gzip with FEXTRA and a `BC` subfield). */
export async function detectCompression(path: string): Promise<VcfCompression> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(18);
    const { bytesRead } = await fh.read(buf, 0, 18, 0);
    if (bytesRead < 2 || buf[0] !== 0x1f || buf[1] !== 0x8b) return 'none';
    const fextra = bytesRead >= 14 && ((buf[3] ?? 0) & 0x04) !== 0;
    return fextra && buf[12] === 0x42 && buf[13] === 0x43 ? 'bgzf' : 'gzip';
  } finally {
    await fh.close();
  }
}

/**
 * Splits a text stream into lines (LF or CRLF), yielding each chunk's complete
 * lines as one array. A line spanning chunks is joined once it is complete.
 */
export async function* splitLines(chunks: AsyncIterable<string>): AsyncGenerator<string[]> {
  let carry = '';
  for await (const chunk of chunks) {
    let nl = chunk.indexOf('\n');
    if (nl === -1) {
      carry += chunk;
      continue;
    }
    const lines: string[] = [];
    lines.push(stripCr(carry + chunk.slice(0, nl)));
    let start = nl + 1;
    nl = chunk.indexOf('\n', start);
    while (nl !== -1) {
      lines.push(stripCr(chunk.slice(start, nl)));
      start = nl + 1;
      nl = chunk.indexOf('\n', start);
    }
    carry = chunk.slice(start);
    yield lines;
  }
  if (carry.length > 0) yield [stripCr(carry)];
}

function stripCr(line: string): string {
  return line.length > 0 && line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line;
}

/** Opens the file and wires decompression; the returned text stream is UTF-8. */
function openTextStream(
  path: string,
  compression: VcfCompression,
  opts: ReadVcfOptions,
): { raw: ReadStream; text: Readable; consumed: () => number } {
  const chunk = opts.chunkSize ?? DEFAULT_CHUNK;
  const raw = createReadStream(path, { highWaterMark: chunk, signal: opts.signal });
  if (compression === 'none') {
    raw.setEncoding('utf8');
    return { raw, text: raw, consumed: () => raw.bytesRead };
  }
  // createGunzip decodes every member of a multi-member file (BGZF is one member per block).
  const gunzip = createGunzip({ chunkSize: chunk });
  const text = pipeline(raw, gunzip, () => {
    // errors reach the consumer through `gunzip`, which pipeline destroys with them
  });
  text.setEncoding('utf8');
  return { raw, text, consumed: () => gunzip.bytesWritten };
}

class FileVcfReader implements VcfReader {
  recordsRead = 0;
  lineNumber = 0;
  private started = false;

  constructor(
    readonly path: string,
    readonly compression: VcfCompression,
    readonly fileSize: number,
    readonly header: VcfHeader,
    private readonly raw: ReadStream,
    private readonly consumed: () => number,
    private readonly batches: AsyncIterator<string[]>,
    private pending: string[],
    private readonly onBadRecord?: (error: VcfParseError) => void,
  ) {}

  get bytesRead(): number {
    return this.consumed();
  }

  get closed(): boolean {
    return this.raw.destroyed;
  }

  close(): void {
    this.raw.destroy();
    void this.batches.return?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<VcfRecord> {
    if (this.started) throw new Error(`${this.path}: a VcfReader can be iterated only once`);
    this.started = true;
    try {
      let lines = this.pending;
      this.pending = [];
      for (;;) {
        for (const line of lines) {
          this.lineNumber++;
          if (line.length === 0 || line.charCodeAt(0) === 35 /* # */) continue;
          const record = this.parse(line);
          if (record) yield record;
        }
        const next = await this.batches.next();
        if (next.done) return;
        lines = next.value;
      }
    } finally {
      this.close();
    }
  }

  /** The record of a data line; undefined when it cannot be parsed and `onBadRecord` takes it. */
  private parse(line: string): VcfRecord | undefined {
    let record: VcfRecord;
    try {
      record = parseLine(this.header, line);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      const error = new VcfParseError(msg, this.path, this.lineNumber, { cause: err });
      if (!this.onBadRecord) throw error;
      this.onBadRecord(error);
      return undefined;
    }
    this.recordsRead++;
    return record;
  }
}

/**
 * @gmod/vcf refuses an empty INFO column in strict mode; bcftools reads it as `.` (vcf-js
 * multipleAltSVs.vcf has such lines), and so does this reader.
 */
function parseLine(header: VcfHeader, line: string): VcfRecord {
  try {
    return header.parser.parseLine(line);
  } catch (err) {
    const cols = line.split('\t');
    if (cols.length < 8 || cols[7] !== '') throw err;
    cols[7] = '.';
    return header.parser.parseLine(cols.join('\t'));
  }
}

/**
 * Reads header lines up to the first data line. Returns the header lines, the
 * not-yet-consumed lines (first data line onwards) and how many lines were consumed.
 */
async function readHeaderLines(
  batches: AsyncIterator<string[]>,
): Promise<{ headerLines: string[]; rest: string[]; consumed: number }> {
  const headerLines: string[] = [];
  let consumed = 0;
  for (;;) {
    const next = await batches.next();
    if (next.done) return { headerLines, rest: [], consumed };
    const lines = next.value;
    for (let i = 0; i < lines.length; i++) {
      let line = lines[i] ?? '';
      if (consumed === 0 && line.charCodeAt(0) === 0xfeff) line = line.slice(1); // UTF-8 byte order mark
      if (line.length > 0 && !line.startsWith('#')) return { headerLines, rest: lines.slice(i), consumed };
      consumed++;
      if (line.length > 0) headerLines.push(line);
    }
  }
}

function buildHeader(path: string, headerLines: string[], strict: boolean): VcfHeader {
  if (!headerLines.some((l) => l.startsWith('#CHROM'))) {
    throw new Error(`${path}: not a VCF, no #CHROM header line before the first record`);
  }
  let parser: VCF;
  try {
    parser = new VCF({ header: headerLines.join('\n'), strict });
  } catch (error) {
    throw new Error(`${path}: the VCF header cannot be read: ${(error as Error).message}`, { cause: error });
  }
  // A message keys its calls by sample name: a repeated name would silently merge two columns.
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const name of parser.samples) (seen.has(name) ? repeated : seen).add(name);
  if (repeated.size > 0)
    throw new Error(
      `${path}: the #CHROM line names ${[...repeated].map((n) => JSON.stringify(n)).join(', ')} more than once; sample names must be unique`,
    );
  const fileformat = parser.getMetadata('fileformat');
  return {
    parser,
    samples: parser.samples,
    lines: headerLines,
    fileformat: typeof fileformat === 'string' ? fileformat : undefined,
  };
}

/** Opens a VCF and parses its header; iterate the result for records. */
export async function openVcf(path: string, opts: ReadVcfOptions = {}): Promise<VcfReader> {
  const [compression, { size }] = await Promise.all([detectCompression(path), stat(path)]);
  const { raw, text, consumed: position } = openTextStream(path, compression, opts);
  const batches = splitLines(text)[Symbol.asyncIterator]();
  try {
    const { headerLines, rest, consumed } = await readHeaderLines(batches);
    const header = buildHeader(path, headerLines, opts.strict ?? true);
    const reader = new FileVcfReader(
      path,
      compression,
      size,
      header,
      raw,
      position,
      batches,
      rest,
      opts.onBadRecord,
    );
    reader.lineNumber = consumed;
    return reader;
  } catch (err) {
    raw.destroy();
    await batches.return?.(undefined);
    throw err;
  }
}

/**
 * Streams the records of a VCF. `opts.onHeader` receives the header and the live
 * reader (for `bytesRead`, `fileSize`, `recordsRead`) before the first record.
 * Breaking out of the loop closes the file.
 */
export async function* readVcf(path: string, opts: ReadVcfOptions = {}): AsyncGenerator<VcfRecord> {
  const reader = await openVcf(path, opts);
  try {
    opts.onHeader?.(reader.header, reader);
    yield* reader;
  } finally {
    reader.close();
  }
}
