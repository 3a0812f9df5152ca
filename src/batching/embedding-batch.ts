/**
 * A micro-batch of embeddings, held column-wise: every vector in one growing Float32Array (rows ×
 * dim), the other fields in one array per column. De-duplicated as it fills: the last message per
 * id wins, its vector copied over the earlier one's slot. This is the batch's only copy of the
 * vectors; the LanceDB sink hands a view of it to Arrow.
 */
import type { DecodedEmbeddings } from '../contract/embedding-decoder.ts';
import type { Lineage } from './variant-batch.ts';

const INITIAL_ROWS = 64;

export class EmbeddingBatch {
  readonly ids: string[] = [];
  readonly model: (string | null)[] = [];
  readonly sourceKind: (string | null)[] = [];
  readonly sourceId: (string | null)[] = [];
  readonly text: (string | null)[] = [];
  readonly metadata: (string | null)[] = [];
  readonly topic: string[] = [];
  readonly partition: number[] = [];
  readonly offset: number[] = [];
  private buffer: Float32Array = new Float32Array(0);
  private dimension = 0;
  private readonly index = new Map<string, number>();

  get length(): number {
    return this.ids.length;
  }

  get dim(): number {
    return this.dimension;
  }

  /** The vectors of rows 0..length-1 (a view, no copy). */
  get vectors(): Float32Array {
    return this.buffer.subarray(0, this.length * this.dimension);
  }

  add(decoded: DecodedEmbeddings, lineage: Lineage): void {
    const dim = decoded.dim;
    if (this.dimension === 0) this.dimension = dim;
    else if (dim !== this.dimension) throw new Error(`batch holds ${this.dimension}-d vectors, got ${dim}-d`);
    this.reserve(this.ids.length + decoded.count);
    for (let r = 0; r < decoded.count; r++) {
      const id = decoded.ids[r] as string;
      let row = this.index.get(id);
      if (row === undefined) {
        row = this.ids.length;
        this.index.set(id, row);
        this.ids.push(id);
      }
      this.buffer.set(decoded.vectors.subarray(r * dim, (r + 1) * dim), row * dim);
      this.model[row] = decoded.model[r] ?? null;
      this.sourceKind[row] = decoded.sourceKind[r] ?? null;
      this.sourceId[row] = decoded.sourceId[r] ?? null;
      this.text[row] = decoded.text[r] ?? null;
      this.metadata[row] = decoded.metadata[r] ?? null;
      this.topic[row] = lineage.topic;
      this.partition[row] = lineage.partition;
      this.offset[row] = lineage.offset;
    }
  }

  /** Grows the vector buffer (doubling) to hold `rows` rows. */
  private reserve(rows: number): void {
    const needed = rows * this.dimension;
    if (needed <= this.buffer.length) return;
    let capacity = Math.max(INITIAL_ROWS * this.dimension, this.buffer.length);
    while (capacity < needed) capacity *= 2;
    const grown = new Float32Array(capacity);
    grown.set(this.buffer);
    this.buffer = grown;
  }
}
