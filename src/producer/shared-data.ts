/**
 * Where VCFs live: the fixtures vendored in the repository (`fixtures/vcf/`, the demo's default input
 * and the tests' files), and the larger shared corpus beside the clone (`../shared/data/vcf/`, or
 * VARSTREAM_SHARED_DIR), which only the benchmarks and corpus-wide tests read.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The VCFs vendored in the repository (fixtures/vcf/README.md: source, licence, checksum). */
export const FIXTURE_VCF = join(ROOT, 'fixtures', 'vcf');

/** The public VCFs of shared/data/vcf, when present. */
export const SHARED_VCF = join(process.env.VARSTREAM_SHARED_DIR ?? join(ROOT, '..', 'shared'), 'data', 'vcf');

/** A file of FIXTURE_VCF (always there in a clone). */
export function fixtureVcf(name: string): string {
  const path = join(FIXTURE_VCF, name);
  if (!existsSync(path)) throw new Error(`VCF fixture ${path} not found (fixtures/vcf/README.md lists them)`);
  return path;
}

/** Whether the shared corpus is beside the clone; callers name what they skip without it. */
export function sharedCorpusPresent(): boolean {
  return existsSync(SHARED_VCF);
}

/** A file of SHARED_VCF; fails with the place it looked when the shared data is not there. */
export function sharedVcf(name: string): string {
  const path = join(SHARED_VCF, name);
  if (!existsSync(path)) {
    throw new Error(`VCF ${path} not found: clone beside ../shared or set VARSTREAM_SHARED_DIR`);
  }
  return path;
}
