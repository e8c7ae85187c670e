// Bar charts as SVG built from data (no chart library, nothing from a CDN); each bar has a <title> and the
// chart a text summary so that screen readers get the numbers too.

import { h } from '../dom.js';

const NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  for (const child of children) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

/** bars: [{label, value, kind}] → a figure with one bar per entry. */
export function barChart(title, bars) {
  const width = 64 * Math.max(bars.length, 1) + 20;
  const height = 140;
  const top = Math.max(1, ...bars.map((b) => b.value));
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height + 40}`, role: 'img', 'aria-label': title, class: 'chart' });
  bars.forEach((bar, index) => {
    const barHeight = Math.round((bar.value / top) * height);
    const x = 18 + index * 64;
    chart.append(
      svg('rect', { x, y: height - barHeight + 10, width: 28, height: Math.max(barHeight, 1), class: `bar ${bar.kind || ''}`, 'data-label': bar.label, 'data-value': bar.value },
        svg('title', {}, `${bar.label}: ${bar.value}`)),
      svg('text', { x: x + 14, y: height - barHeight + 6, 'text-anchor': 'middle', class: 'value' }, bar.value),
      svg('text', { x: x + 14, y: height + 26, 'text-anchor': 'middle', class: 'label' }, bar.label.slice(0, 11)),
    );
  });
  return h('figure', { class: 'chart-box' }, chart,
    h('figcaption', { text: `${title}: ${bars.map((b) => `${b.label} ${b.value}`).join(', ')}` }));
}
