/**
 * Progress display for long-running commands: count, rate and ETA. On a terminal it redraws one
 * line; otherwise it prints a line every few seconds (logs stay readable in CI and Kubernetes).
 */

export interface ProgressSnapshot {
  count: number;
  /** Fraction done in [0, 1], when known (e.g. bytes read of a file). */
  fraction?: number;
}

export class Progress {
  private lastDraw = 0;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly intervalMs = stream.isTTY ? 200 : 5_000,
    /** When the work began (`performance.now()`), if before this display: rate and time count from it. */
    private readonly started = performance.now(),
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  update(snapshot: ProgressSnapshot): void {
    const now = performance.now();
    if (now - this.lastDraw < this.intervalMs) return;
    this.lastDraw = now;
    this.draw(snapshot, false);
  }

  /** The final line; `at` (`performance.now()`) is when the work ended, if before this call. */
  done(snapshot: ProgressSnapshot, at = performance.now()): void {
    this.draw({ ...snapshot, fraction: 1 }, true, at);
  }

  private draw({ count, fraction }: ProgressSnapshot, final: boolean, at = performance.now()): void {
    const seconds = (at - this.started) / 1000;
    const rate = seconds > 0 ? count / seconds : 0;
    let line = `${this.label}: ${count.toLocaleString('en-US')} (${Math.round(rate).toLocaleString('en-US')}/s)`;
    if (fraction !== undefined && fraction > 0) {
      const eta = final ? 0 : (seconds / fraction) * (1 - fraction);
      line += ` ${(fraction * 100).toFixed(0)}%`;
      if (!final) line += ` ETA ${formatSeconds(eta)}`;
    }
    if (final) line += ` in ${formatSeconds(seconds)}`;
    if (this.tty) this.stream.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
    else this.stream.write(`${line}\n`);
  }
}

export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60);
  return `${m}m${Math.round(seconds - m * 60)}s`;
}
