/**
 * Small charts drawn as SVG text: a line over time (bytes of a bucket) and horizontal bars (top requesters).
 * Written by hand rather than with a plotting library: two chart kinds need a few dozen lines, and the SVG is then
 * rasterised by resvg (./png.ts) without a browser. Every label is data and is XML-escaped.
 */

export interface TimePoint {
  /** Epoch milliseconds. */
  at: number;
  value: number;
}

export interface LineChartSpec {
  title: string;
  points: readonly TimePoint[];
  formatValue(value: number): string;
}

export interface Bar {
  label: string;
  value: number;
}

export interface BarChartSpec {
  title: string;
  bars: readonly Bar[];
  formatValue(value: number): string;
}

const WIDTH = 800;
const HEIGHT = 400;
const MARGIN = { top: 48, right: 24, bottom: 56, left: 96 };
const FONT = `font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif"`;
const Y_TICKS = 4;

function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function frame(title: string, body: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}">` +
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>` +
    `<text x="${WIDTH / 2}" y="28" text-anchor="middle" font-size="18" ${FONT} fill="#222">${escapeXml(title)}</text>` +
    body +
    '</svg>'
  );
}

/** UTC, since members of one server live in many time zones: "01-05 14:00". */
function timeLabel(at: number): string {
  const d = new Date(at);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** Bytes over time. One point is drawn as a dot; no points as an empty frame saying so. */
export function lineChartSvg(spec: LineChartSpec): string {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  if (spec.points.length === 0) {
    return frame(spec.title, `<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle" font-size="14" ${FONT} fill="#666">No data points</text>`);
  }
  const points = [...spec.points].sort((a, b) => a.at - b.at);
  const first = points[0] as TimePoint;
  const last = points[points.length - 1] as TimePoint;
  const span = Math.max(last.at - first.at, 1);
  const maxValue = Math.max(...points.map((p) => p.value), 1);
  const x = (at: number) => MARGIN.left + (points.length === 1 ? plotW / 2 : ((at - first.at) / span) * plotW);
  const y = (value: number) => MARGIN.top + plotH - (value / maxValue) * plotH;
  const parts: string[] = [];
  for (let i = 0; i <= Y_TICKS; i += 1) {
    const value = (maxValue * i) / Y_TICKS;
    const py = y(value).toFixed(1);
    parts.push(`<line x1="${MARGIN.left}" y1="${py}" x2="${WIDTH - MARGIN.right}" y2="${py}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${MARGIN.left - 8}" y="${py}" dy="4" text-anchor="end" font-size="12" ${FONT} fill="#444">${escapeXml(spec.formatValue(value))}</text>`);
  }
  const labelled = points.length === 1 ? [first] : [first, last];
  for (const point of labelled) {
    const anchor = points.length === 1 ? 'middle' : point === first ? 'start' : 'end';
    parts.push(`<text x="${x(point.at).toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 20}" text-anchor="${anchor}" font-size="12" ${FONT} fill="#444">${timeLabel(point.at)} UTC</text>`);
  }
  const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.at).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ');
  parts.push(`<path d="${path}" fill="none" stroke="#5865f2" stroke-width="2.5"/>`);
  for (const p of points) parts.push(`<circle cx="${x(p.at).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="3.5" fill="#5865f2"/>`);
  return frame(spec.title, parts.join(''));
}

/** Horizontal bars, largest first as given; labels (IP addresses, requester ids) are clipped to fit. */
export function barChartSvg(spec: BarChartSpec): string {
  const plotW = WIDTH - MARGIN.left - MARGIN.right - 160;
  const bars = spec.bars.slice(0, 15);
  if (bars.length === 0) {
    return frame(spec.title, `<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle" font-size="14" ${FONT} fill="#666">No requests</text>`);
  }
  const rowH = (HEIGHT - MARGIN.top - 16) / bars.length;
  const maxValue = Math.max(...bars.map((b) => b.value), 1);
  const left = MARGIN.left + 160;
  const parts = bars.map((bar, i) => {
    const top = MARGIN.top + i * rowH;
    const w = Math.max((bar.value / maxValue) * plotW, 1);
    const label = bar.label.length > 28 ? `${bar.label.slice(0, 27)}…` : bar.label;
    const mid = (top + rowH / 2).toFixed(1);
    return (
      `<text x="${left - 8}" y="${mid}" dy="4" text-anchor="end" font-size="12" ${FONT} fill="#222">${escapeXml(label)}</text>` +
      `<rect x="${left}" y="${(top + rowH * 0.15).toFixed(1)}" width="${w.toFixed(1)}" height="${(rowH * 0.7).toFixed(1)}" fill="#57a773"/>` +
      `<text x="${(left + w + 6).toFixed(1)}" y="${mid}" dy="4" font-size="12" ${FONT} fill="#444">${escapeXml(spec.formatValue(bar.value))}</text>`
    );
  });
  return frame(spec.title, parts.join(''));
}
