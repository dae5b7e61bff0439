// A chart of a result (Chart.js): bar, line, area, scatter or histogram, with the x
// column and the y columns picked from the result's columns. The settings are saved
// with the cell: {type, x, y: [..], bins}.
import { useEffect, useRef } from 'preact/hooks';
import {
  Chart, BarController, LineController, ScatterController, BarElement, LineElement, PointElement,
  CategoryScale, LinearScale, Legend, Tooltip, Filler,
} from 'chart.js';

Chart.register(BarController, LineController, ScatterController, BarElement, LineElement, PointElement,
  CategoryScale, LinearScale, Legend, Tooltip, Filler);

export const CHART_TYPES = ['bar', 'line', 'area', 'scatter', 'histogram'];
const COLORS = ['#2f6fde', '#e0703a', '#2aa876', '#b548c6', '#d4a21a', '#5a6b7d'];

const numeric = (t) => /INT|DECIMAL|DOUBLE|FLOAT|REAL|NUMERIC/i.test(t || '');

// A first guess for a new chart: the first non-numeric column across, numeric ones up.
export function defaultChart(columns) {
  const x = columns.find((c) => !numeric(c.type)) || columns[0];
  const ys = columns.filter((c) => numeric(c.type) && c !== x).map((c) => c.name);
  return { type: 'bar', x: x?.name || '', y: ys.slice(0, 1), bins: 20 };
}

function histogram(values, bins) {
  const nums = values.filter((v) => typeof v === 'number' && Number.isFinite(v));
  if (!nums.length) return { labels: [], counts: [] };
  let lo = Math.min(...nums), hi = Math.max(...nums);
  if (lo === hi) hi = lo + 1;
  const width = (hi - lo) / bins;
  const counts = new Array(bins).fill(0);
  for (const v of nums) counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++;
  const labels = counts.map((_, i) => `${+(lo + i * width).toPrecision(4)}–${+(lo + (i + 1) * width).toPrecision(4)}`);
  return { labels, counts };
}

function config(spec, columns, rows) {
  const idx = (name) => columns.findIndex((c) => c.name === name);
  const xi = idx(spec.x);
  const num = (v) => (typeof v === 'number' ? v : v === null ? null : Number(v));
  if (spec.type === 'histogram') {
    const { labels, counts } = histogram(rows.map((r) => num(r[xi])), spec.bins || 20);
    return { type: 'bar', data: { labels, datasets: [{ label: `${spec.x} (count)`, data: counts, backgroundColor: COLORS[0] }] } };
  }
  const ys = (spec.y || []).filter((y) => idx(y) >= 0);
  if (spec.type === 'scatter') {
    return {
      type: 'scatter',
      data: { datasets: ys.map((y, k) => ({ label: y, backgroundColor: COLORS[k % 6], data: rows.map((r) => ({ x: num(r[xi]), y: num(r[idx(y)]) })) })) },
    };
  }
  const area = spec.type === 'area';
  return {
    type: area ? 'line' : spec.type,
    data: {
      labels: rows.map((r) => (xi >= 0 ? String(r[xi]) : '')),
      datasets: ys.map((y, k) => ({
        label: y, data: rows.map((r) => num(r[idx(y)])), fill: area, borderColor: COLORS[k % 6],
        backgroundColor: area ? COLORS[k % 6] + '55' : COLORS[k % 6],
      })),
    },
  };
}

export function ChartView({ spec, columns, rows }) {
  const canvas = useRef(null);
  useEffect(() => {
    const c = config(spec, columns, rows);
    c.options = { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: { position: 'bottom' } } };
    const chart = new Chart(canvas.current, c);
    return () => chart.destroy();
  }, [spec, columns, rows]);
  return (
    <div class="chart">
      <canvas ref={canvas} role="img" aria-label={`${spec.type} chart of ${spec.x}`} data-testid="chart" />
    </div>
  );
}

export function ChartPicker({ spec, columns, onChange }) {
  const set = (k, v) => onChange({ ...spec, [k]: v });
  const toggleY = (name) => set('y', spec.y.includes(name) ? spec.y.filter((y) => y !== name) : [...spec.y, name]);
  return (
    <div class="chart-picker">
      <label>
        Chart
        <select aria-label="Chart type" value={spec.type} onChange={(e) => set('type', e.currentTarget.value)}>
          {CHART_TYPES.map((t) => <option value={t}>{t}</option>)}
        </select>
      </label>
      <label>
        {spec.type === 'histogram' ? 'Values' : 'X axis'}
        <select aria-label={spec.type === 'histogram' ? 'Values' : 'X axis'} value={spec.x} onChange={(e) => set('x', e.currentTarget.value)}>
          {columns.map((c) => <option value={c.name}>{c.name}</option>)}
        </select>
      </label>
      {spec.type === 'histogram' ? (
        <label>
          Bins
          <input type="number" min="2" max="200" value={spec.bins || 20} onChange={(e) => set('bins', Math.max(2, Math.min(200, +e.currentTarget.value || 20)))} />
        </label>
      ) : (
        <fieldset>
          <legend>Series</legend>
          {columns.filter((c) => c.name !== spec.x).map((c) => (
            <label class="check">
              <input type="checkbox" checked={spec.y.includes(c.name)} onChange={() => toggleY(c.name)} /> {c.name}
            </label>
          ))}
        </fieldset>
      )}
    </div>
  );
}
