// One notebook cell: SQL (editor, run/cancel, result grid, optional chart) or
// Markdown (text, shown rendered). A cell's result lives in the page only: whoever
// opens the workspace runs the cell as themself.
import { useState } from 'preact/hooks';
import { SqlEditor } from './sql_editor.jsx';
import { Grid } from './grid.jsx';
import { ChartView, ChartPicker, defaultChart } from './chart.jsx';
import { Markdown } from './markdown.jsx';
import { runSql, cancelQuery, newQueryId } from './api.js';
import { remember } from './history.js';

export function useRun() {
  const [state, setState] = useState({ status: 'idle' });
  const run = async (sql) => {
    if (!sql.trim()) return;
    const queryId = newQueryId();
    const started = performance.now();
    setState({ status: 'running', queryId, sql });
    remember(sql);
    try {
      const result = await runSql(sql, { queryId, limit: 1000 });
      setState({ status: 'done', result, sql, ms: performance.now() - started });
    } catch (e) {
      setState({ status: e.status === 409 && /cancel/i.test(e.message) ? 'cancelled' : 'failed', error: e.message, sql });
    }
  };
  const cancel = () => state.queryId && cancelQuery(state.queryId).catch(() => {});
  return [state, run, cancel];
}

export function RunOutput({ state, chart, onChart, name }) {
  if (state.status === 'running') return <p class="muted" role="status">Running…</p>;
  if (state.status === 'failed') return <p class="error" role="alert">{state.error}</p>;
  if (state.status === 'cancelled') return <p class="warn" role="status">Cancelled.</p>;
  if (state.status !== 'done') return null;
  const r = state.result;
  if (!r.columns?.length) return <p class="muted" role="status">Done. {(r.messages || []).join(' ')}</p>;
  return (
    <>
      <p class="muted small" role="status">{`Finished in ${(state.ms / 1000).toFixed(2)} s`}</p>
      {onChart && (
        <div class="chart-row">
          {chart ? (
            <>
              <ChartPicker spec={chart} columns={r.columns} onChange={onChart} />
              <button type="button" class="small" onClick={() => onChart(null)}>Remove chart</button>
            </>
          ) : (
            <button type="button" class="small" onClick={() => onChart(defaultChart(r.columns))}>Add chart</button>
          )}
        </div>
      )}
      {chart && <ChartView spec={chart} columns={r.columns} rows={r.rows} />}
      {chart && r.total_rows > r.rows.length && <p class="muted small">The chart shows the first {r.rows.length} rows.</p>}
      <Grid result={r} sql={state.sql} name={name} />
    </>
  );
}

export function Cell({ cell, index, editable, onChange, onRemove, onMove }) {
  const [state, run, cancel] = useRun();
  const [editing, setEditing] = useState(!cell.source);
  const set = (k, v) => onChange({ ...cell, [k]: v });
  const tools = editable && (
    <span class="cell-tools">
      <button type="button" class="small" aria-label={`Move cell ${index + 1} up`} onClick={() => onMove(-1)}>↑</button>
      <button type="button" class="small" aria-label={`Move cell ${index + 1} down`} onClick={() => onMove(1)}>↓</button>
      <button type="button" class="small" aria-label={`Delete cell ${index + 1}`} onClick={onRemove}>✕</button>
    </span>
  );
  if (cell.kind === 'markdown') {
    return (
      <section class="cell md" aria-label={`Cell ${index + 1}, text`}>
        <div class="cell-head"><span class="muted small">Text</span>{editable && <button type="button" class="small" onClick={() => setEditing(!editing)}>{editing ? 'Show' : 'Edit'}</button>}{tools}</div>
        {editing && editable ? (
          <textarea aria-label={`Text of cell ${index + 1}`} value={cell.source} rows={Math.max(3, cell.source.split('\n').length)} onInput={(e) => set('source', e.currentTarget.value)} />
        ) : (
          <Markdown source={cell.source} />
        )}
      </section>
    );
  }
  return (
    <section class="cell sql" aria-label={`Cell ${index + 1}, SQL`}>
      <div class="cell-head">
        <button type="button" class="primary small" onClick={() => run(cell.source)} disabled={state.status === 'running'} title="Ctrl-Enter">Run</button>
        {state.status === 'running' && <button type="button" class="small" onClick={cancel}>Cancel</button>}
        <span class="muted small">SQL · Ctrl-Enter runs the selection or the cell</span>
        {tools}
      </div>
      <SqlEditor value={cell.source} label={`SQL of cell ${index + 1}`} onChange={(v) => set('source', v)} onRun={run} />
      <RunOutput state={state} chart={cell.chart} onChart={editable ? (c) => set('chart', c) : null} name={`cell-${index + 1}`} />
    </section>
  );
}
