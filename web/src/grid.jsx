// A virtualized result grid: only the rows in view are in the DOM; the pages of the
// Runner's paged result (GET /v1/queries/{id}/results/{page}) load as they scroll in.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, request } from './api.js';

const ROW = 26;
const HEIGHT = 340;

export function cellText(v) {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

// Loads and keeps a result's pages; rowAt(i) is undefined until its page is in.
export function usePages(result) {
  const [pages, setPages] = useState(() => new Map([[0, result.rows]]));
  const loading = useRef(new Set());
  useEffect(() => {
    setPages(new Map([[0, result.rows]]));
    loading.current = new Set();
  }, [result]);
  const size = Math.max(result.rows.length, 1);
  const total = result.total_rows ?? result.rows.length;
  const want = (page) => {
    if (page === 0 || pages.has(page) || loading.current.has(page) || !result.query_id) return;
    loading.current.add(page);
    api('GET', `/v1/queries/${encodeURIComponent(result.query_id)}/results/${page}`).then(
      (r) => setPages((old) => new Map(old).set(page, r.rows)),
      () => setPages((old) => new Map(old).set(page, [])),
    );
  };
  const rowAt = (i) => {
    const p = Math.floor(i / size);
    const rows = pages.get(p);
    if (!rows) want(p);
    return rows?.[i - p * size];
  };
  return { rowAt, total, size, loaded: [...pages.values()].reduce((n, r) => n + r.length, 0) };
}

async function download(sql, format, name) {
  const res = await request('POST', '/v1/statements', { sql, format });
  const blob = await res.blob();
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `${name}.${format}`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

export function Grid({ result, sql, name = 'result' }) {
  const [top, setTop] = useState(0);
  const [note, setNote] = useState('');
  const scroller = useRef(null);
  const { rowAt, total } = usePages(result);
  const cols = result.columns;
  const first = Math.max(0, Math.floor(top / ROW) - 5);
  const last = Math.min(total, Math.ceil((top + HEIGHT) / ROW) + 5);
  const rows = [];
  for (let i = first; i < last; i++) {
    const r = rowAt(i);
    rows.push(
      <div class="gr" role="row" aria-rowindex={i + 2} style={{ top: (i + 1) * ROW + 'px' }} key={i}>
        <span class="gn">{i + 1}</span>
        {cols.map((c, j) => (
          <span role="gridcell" class={r && r[j] === null ? 'gc null' : 'gc'}>{r ? cellText(r[j]) : '…'}</span>
        ))}
      </div>,
    );
  }
  const copy = async () => {
    const lines = [cols.map((c) => c.name).join('\t')];
    for (let i = 0; i < Math.min(total, 100000); i++) {
      const r = rowAt(i);
      if (!r) break;
      lines.push(r.map(cellText).join('\t'));
    }
    await navigator.clipboard.writeText(lines.join('\n'));
    setNote(`copied ${lines.length - 1} rows`);
  };
  const failed = (e) => setNote(e.message);
  return (
    <div class="result">
      <div class="result-bar">
        <span data-testid="row-count">{total.toLocaleString()} rows</span>
        {result.truncated_reason && <span class="warn">cut by {result.truncated_reason}</span>}
        <span class="spacer" />
        <span class="muted">{note}</span>
        <button type="button" class="small" onClick={copy}>Copy</button>
        {sql && (
          <>
            <button type="button" class="small" onClick={() => download(sql, 'csv', name).catch(failed)}>CSV</button>
            <button type="button" class="small" onClick={() => download(sql, 'parquet', name).catch(failed)}>Parquet</button>
            <button type="button" class="small" onClick={() => download(sql, 'xlsx', name).catch(failed)}>Excel</button>
          </>
        )}
      </div>
      <div class="grid" role="grid" aria-rowcount={total + 1} ref={scroller} style={{ height: Math.min(HEIGHT, (total + 1) * ROW + 18) + 'px' }}
        onScroll={(e) => setTop(e.currentTarget.scrollTop)}>
        <div class="gbody" style={{ height: (total + 1) * ROW + 'px', width: (cols.length * 160 + 56) + 'px' }}>
          <div class="gr gh" role="row" aria-rowindex={1} style={{ top: top + 'px' }}>
            <span class="gn">#</span>
            {cols.map((c) => (
              <span role="columnheader" class="gc" title={c.type}>
                {c.name} <small>{c.type}</small>
              </span>
            ))}
          </div>
          {rows}
        </div>
      </div>
    </div>
  );
}
