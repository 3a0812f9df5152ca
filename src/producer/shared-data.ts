/** Where the shared public VCFs live: ../shared beside the clone (as in CI), or VARSTREAM_SHARED_DIR. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The public VCFs of shared/data/vcf. */
export const SHARED_VCF = join(process.env.VARSTREAM_SHARED_DIR ?? join(ROOT, '..', 'shared'), 'data', 'vcf');

/** A file of SHARED_VCF; fails with the place it looked when the shared data is not there. */
export function sharedVcf(name: string): string {
  const path = join(SHARED_VCF, name);
  if (!existsSync(path)) {
    throw new Error(`VCF ${path} not found: clone beside ../shared or set VARSTREAM_SHARED_DIR`);
  }
  return path;
}
