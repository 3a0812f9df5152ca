/** How `produce vcf` and the demo report the records they skip: each of the first 20, then a count. */
import type { SkippedRecord } from '../producer/produce-vcf.ts';

const SHOWN = 20;

export function skipReporter(write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)) {
  let n = 0;
  return {
    onSkip(s: SkippedRecord): void {
      n++;
      if (n <= SHOWN) write(`skipped ${s.path}:${s.line}: ${s.reason}`);
      else if (n === SHOWN + 1) write('(more skipped records: only the first 20 are shown)');
    },
  };
}

/** One line for the end of a run, or '' when nothing was skipped. */
export function skippedSummary(skipped: number, first: readonly SkippedRecord[]): string {
  if (skipped === 0) return '';
  const where = first.map((s) => s.line).join(', ');
  return `${skipped.toLocaleString('en-US')} record${skipped === 1 ? '' : 's'} skipped (lines ${where}${skipped > first.length ? ', …' : ''}); --strict stops at the first instead`;
}
