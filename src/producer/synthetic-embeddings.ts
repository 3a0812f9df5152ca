/**
 * Realistic synthetic embeddings: unit-normalised vectors drawn around a fixed set of cluster
 * centres (as real embeddings of related texts are), not uniform noise. Seeded and deterministic.
 */
import { mulberry32 } from './prng.ts';

export interface EmbeddingGeneratorOptions {
  dim: number;
  /** Number of cluster centres. */
  clusters?: number;
  /** Noise norm relative to the (unit) centre: 0.6 gives cosine similarity ~0.86 within a cluster. */
  spread?: number;
  seed?: number;
}

export class EmbeddingGenerator {
  readonly dim: number;
  readonly clusters: number;
  private readonly centres: Float32Array;
  private readonly spread: number;
  private readonly random: () => number;
  private spare: number | undefined;

  constructor(options: EmbeddingGeneratorOptions) {
    this.dim = options.dim;
    this.clusters = options.clusters ?? 16;
    this.spread = options.spread ?? 0.6;
    this.random = mulberry32(options.seed ?? 42);
    this.centres = new Float32Array(this.clusters * this.dim);
    for (let c = 0; c < this.clusters; c++) {
      const centre = this.centres.subarray(c * this.dim, (c + 1) * this.dim);
      for (let i = 0; i < this.dim; i++) centre[i] = this.gaussian();
      normalise(centre);
    }
  }

  /** Writes one vector of `cluster` (default: a random one) into `out` (length dim). */
  next(out: Float32Array, cluster = Math.floor(this.random() * this.clusters)): Float32Array {
    const c = ((cluster % this.clusters) + this.clusters) % this.clusters;
    const sigma = this.spread / Math.sqrt(this.dim);
    for (let i = 0; i < this.dim; i++)
      out[i] = (this.centres[c * this.dim + i] as number) + sigma * this.gaussian();
    return normalise(out);
  }

  /** Standard normal (Box-Muller, two values per pair of uniforms). */
  private gaussian(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const u = 1 - this.random();
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

export function normalise(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += (v[i] as number) ** 2;
  const norm = Math.sqrt(sum) || 1;
  for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) / norm;
  return v;
}

/** A stable cluster for a label (e.g. a gene symbol): variants of one gene embed near each other. */
export function clusterOf(label: string, clusters: number): number {
  let h = 2166136261;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 16777619);
  return (h >>> 0) % clusters;
}
