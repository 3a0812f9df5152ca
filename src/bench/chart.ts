/**
 * The bench chart: one SVG, a row per scenario, throughput (rows/s, log scale: the old way and
 * the ceiling are orders of magnitude apart) on the left and peak RSS (MB, the kernel's VmHWM, with
 * the 400 MB target marked) on the right. Plain SVG text, no dependency.
 */
interface ChartRow {
  name: string;
  /** Rows landed per second: messages/s, except Arrow embeddings (many rows per message). */
  rowsPerSec: number;
  osPeakRssMb: number;
}

const SHORT = ['1', '10', '100', '1k', '10k', '100k', '1M', '10M'];

const ROW = 28;
const LABEL = 150;
const PANEL = 330;
const GAP = 40;
const TOP = 50;
const RSS_TARGET_MB = 400;

const xmlText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function benchChart(rows: readonly ChartRow[], title: string): string {
  const height = TOP + rows.length * ROW + 40;
  const width = LABEL + 2 * PANEL + GAP + 20;
  const maxRate = Math.max(10, ...rows.map((r) => r.rowsPerSec));
  const decades = Math.ceil(Math.log10(maxRate));
  const rateX = (v: number) => LABEL + (Math.max(0, Math.log10(Math.max(1, v))) / decades) * PANEL;
  const maxRss = Math.max(RSS_TARGET_MB * 1.1, ...rows.map((r) => r.osPeakRssMb)) * 1.05;
  const rssLeft = LABEL + PANEL + GAP;
  const rssX = (v: number) => rssLeft + (v / maxRss) * PANEL;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">${xmlText(title)}</text>`,
    `<text x="${LABEL}" y="${TOP - 12}">rows/s = messages/s (Arrow: rows), log scale</text>`,
    `<text x="${rssLeft}" y="${TOP - 12}">peak RSS, MB (kernel VmHWM)</text>`,
  ];
  for (let d = 0; d <= decades; d++) {
    const x = rateX(10 ** d);
    out.push(
      `<line x1="${x}" y1="${TOP - 4}" x2="${x}" y2="${TOP + rows.length * ROW}" stroke="#ddd"/>`,
      `<text x="${x}" y="${TOP + rows.length * ROW + 14}" text-anchor="middle" fill="#666">${SHORT[d] ?? `1e${d}`}</text>`,
    );
  }
  const target = rssX(RSS_TARGET_MB);
  out.push(
    `<line x1="${target}" y1="${TOP - 4}" x2="${target}" y2="${TOP + rows.length * ROW}" stroke="#c00" stroke-dasharray="4 3"/>`,
    `<text x="${target}" y="${TOP + rows.length * ROW + 14}" text-anchor="middle" fill="#c00">${RSS_TARGET_MB} MB target</text>`,
  );
  rows.forEach((r, i) => {
    const y = TOP + i * ROW;
    const rate = rateX(r.rowsPerSec);
    const rss = rssX(r.osPeakRssMb);
    out.push(
      `<text x="${LABEL - 8}" y="${y + 17}" text-anchor="end">${xmlText(r.name)}</text>`,
      `<rect x="${LABEL}" y="${y + 4}" width="${Math.max(1, rate - LABEL)}" height="${ROW - 10}" fill="#3b7dd8"/>`,
      `<text x="${rate + 4}" y="${y + 17}">${Math.round(r.rowsPerSec).toLocaleString('en-US')}</text>`,
      `<rect x="${rssLeft}" y="${y + 4}" width="${Math.max(1, rss - rssLeft)}" height="${ROW - 10}" fill="${r.osPeakRssMb > RSS_TARGET_MB ? '#e08a2c' : '#4a9d5b'}"/>`,
      `<text x="${rss + 4}" y="${y + 17}">${r.osPeakRssMb.toFixed(0)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
