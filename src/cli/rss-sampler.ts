/** Samples the process's resident set size on a timer and keeps the peak (plus the OS's own maxRSS). */
export class RssSampler {
  private peak = process.memoryUsage.rss();
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 100) {
    this.timer = setInterval(() => {
      this.peak = Math.max(this.peak, process.memoryUsage.rss());
    }, intervalMs);
    this.timer.unref();
  }

  /** The highest of the sampled RSS and the kernel's maxRSS for this process, in bytes. */
  get peakBytes(): number {
    return Math.max(this.peak, process.resourceUsage().maxRSS * 1024);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
