/**
 * bench:graph's chart: per-batch write time (ms) against the graph's size when the batch was written
 * (variants), one line per workload, each the median of ~200 bins of its batches. Plain SVG text.
 */
interface Series {
  name: string;
  /** [graph variants before the batch, batch ms, RSS MiB] per batch. */
  points: ReadonlyArray<readonly [number, number, number]>;
}

const W = 760;
const H = 380;
const L = 70;
const B = 50;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function binned(points: Series['points'], bins = 200): Array<[number, number]> {
  const size = Math.max(1, Math.ceil(points.length / bins));
  const out: Array<[number, number]> = [];
  for (let i = 0; i < points.length; i += size) {
    const part = points.slice(i, i + size);
    const ms = part.map((p) => p[1]).sort((a, b) => a - b);
    out.push([part[0]?.[0] ?? 0, ms[Math.floor(ms.length / 2)] ?? 0]);
  }
  return out;
}

export function graphChart(series: readonly Series[], title: string): string {
  const lines = series.map((s) => ({ name: s.name, points: binned(s.points) }));
  const maxX = Math.max(1, ...lines.flatMap((l) => l.points.map((p) => p[0])));
  const maxY = Math.max(1, ...lines.flatMap((l) => l.points.map((p) => p[1]))) * 1.1;
  const x = (v: number) => L + (v / maxX) * (W - L - 20);
  const y = (v: number) => H - B - (v / maxY) * (H - B - 40);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    '<rect width="100%" height="100%" fill="white"/>',
    `<text x="10" y="18" font-size="13" font-weight="bold">${xml(title)}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - 20}" y2="${H - B}" stroke="black"/>`,
    `<line x1="${L}" y1="40" x2="${L}" y2="${H - B}" stroke="black"/>`,
    `<text x="${(W + L) / 2}" y="${H - 12}" text-anchor="middle">variants in the graph when the batch was written</text>`,
    `<text x="14" y="${(H - B + 40) / 2}" transform="rotate(-90 14 ${(H - B + 40) / 2})" text-anchor="middle">batch write, ms (median per bin)</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const vx = (maxX * i) / 5;
    const vy = (maxY * i) / 5;
    out.push(
      `<text x="${x(vx)}" y="${H - B + 16}" text-anchor="middle">${(vx / 1e6).toFixed(vx < 1e6 ? 2 : 1)}M</text>`,
      `<text x="${L - 6}" y="${y(vy) + 4}" text-anchor="end">${Math.round(vy)}</text>`,
      `<line x1="${L}" y1="${y(vy)}" x2="${W - 20}" y2="${y(vy)}" stroke="#eee"/>`,
    );
  }
  lines.forEach((l, i) => {
    const color = COLORS[i % COLORS.length];
    const path = l.points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ');
    out.push(
      `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${path}"/>`,
      `<text x="${W - 140}" y="${60 + i * 16}" fill="${color}">${xml(l.name)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
