// The catalog as the user may see it: databases, tables, columns with types and
// statistics, snapshots, and for every column the grant, row filter and mask that
// decide what the user reads (EXPLAIN ACCESS). "Why can't I see ..." answers for a
// column name that is not shown.
import { useEffect, useState } from 'preact/hooks';
import { api, rowsOf, ident } from './api.js';

function useLoad(fn, deps) {
  const [state, setState] = useState({ loading: true });
  useEffect(() => {
    let alive = true;
    setState({ loading: true });
    fn().then((data) => alive && setState({ data }), (e) => alive && setState({ error: e.message }));
    return () => { alive = false; };
  }, deps);
  return state;
}

function Table({ head, rows }) {
  return (
    <table class="list">
      <thead><tr>{head.map((h) => <th>{h}</th>)}</tr></thead>
      <tbody>{rows.map((r) => <tr>{r.map((c) => <td>{c === null || c === undefined ? '' : String(c)}</td>)}</tr>)}</tbody>
    </table>
  );
}

function WhyNot({ db, table, access }) {
  const [column, setColumn] = useState('');
  const [answer, setAnswer] = useState(null);
  const ask = async (e) => {
    e.preventDefault();
    const name = column.trim();
    if (!name) return;
    const shown = access.find((a) => a.column.toLowerCase() === name.toLowerCase());
    if (shown) {
      setAnswer({ text: `You may read ${name}: ${shown.reason}.` + (shown.mask ? ` It is masked: ${shown.mask}.` : '') + (shown.row_filter ? ` Rows: ${shown.row_filter}.` : '') });
      return;
    }
    const via = [...new Set(access.map((a) => a.reason))];
    let filters = [];
    try {
      filters = await rowsOf(`SHOW DATA FILTERS ON ${ident(db)}.${ident(table)}`);
    } catch { /* none visible */ }
    setAnswer({
      text: `${name} is not a column of ${db}.${table} that you may read: your grants do not include it, or it does not exist.`,
      via, filters,
    });
  };
  return (
    <form class="panel" onSubmit={ask} aria-label="Why can't I see a column">
      <label>Why can't I see column… <input value={column} onInput={(e) => setColumn(e.currentTarget.value)} placeholder="column name" /></label>{' '}
      <button type="submit">Explain</button>
      {answer && (
        <div role="status" data-testid="why-answer">
          <p>{answer.text}</p>
          {answer.via?.length > 0 && <p>You read this table through: {answer.via.join('; ')}.</p>}
          {answer.filters?.length > 0 && <Table head={Object.keys(answer.filters[0])} rows={answer.filters.map((f) => Object.values(f))} />}
          {answer.via && <p class="muted small">Ask the table's owner or an administrator for a grant that includes it.</p>}
        </div>
      )}
    </form>
  );
}

function TableDetail({ db, table }) {
  const name = `${ident(db)}.${ident(table)}`;
  const cols = useLoad(() => rowsOf(`DESCRIBE ${name}`), [db, table]);
  const access = useLoad(() => rowsOf(`EXPLAIN ACCESS SELECT * FROM ${name}`), [db, table]);
  const snaps = useLoad(() => rowsOf(`SHOW SNAPSHOTS ${name}`), [db, table]);
  const acc = access.data || [];
  const of = (c) => acc.find((a) => a.column === c) || {};
  return (
    <div>
      <h2>{db}.{table}</h2>
      {cols.error && <p class="error" role="alert">{cols.error}</p>}
      {cols.data && (
        <Table head={['column', 'type', 'partition', 'min', 'max', 'nulls', 'your access', 'row filter', 'mask']}
          rows={cols.data.map((c) => [c.column, c.type, c.partition ? 'yes' : '', c.min, c.max, c.null_count, of(c.column).reason || of(c.column).decision, of(c.column).row_filter, of(c.column).mask])} />
      )}
      {access.error && <p class="muted">Access: {access.error}</p>}
      {access.data && <WhyNot db={db} table={table} access={acc} />}
      <h3>Snapshots</h3>
      {snaps.error && <p class="muted">{snaps.error}</p>}
      {snaps.data && <Table head={['snapshot', 'operation', 'rows', 'files', 'bytes', 'created', 'current']} rows={snaps.data.map((s) => [s.snapshot, s.operation, s.rows, s.files, s.bytes, s.created_at, s.current ? 'current' : ''])} />}
      <p class="muted small">Query it: <code>SELECT * FROM {name} LIMIT 100</code></p>
    </div>
  );
}

export function Catalog({ db, table }) {
  const dbs = useLoad(() => api('GET', '/v1/databases').then((r) => r.databases), []);
  const tables = useLoad(() => (db ? api('GET', `/v1/databases/${encodeURIComponent(db)}/tables`).then((r) => r.tables) : Promise.resolve([])), [db]);
  return (
    <div class="split">
      <nav class="side" aria-label="Databases and tables">
        <h2>Catalog</h2>
        {dbs.error && <p class="error">{dbs.error}</p>}
        <ul class="tree">
          {(dbs.data || []).map((d) => (
            <li>
              <a href={`#/catalog/${encodeURIComponent(d.name)}`} class={d.name === db ? 'active' : ''}>{d.name}</a>
              {d.name === db && (
                <ul>
                  {(tables.data || []).map((t) => (
                    <li><a href={`#/catalog/${encodeURIComponent(db)}/${encodeURIComponent(t.name)}`} class={t.name === table ? 'active' : ''}>{t.name}</a> <small class="muted">{t.kind}</small></li>
                  ))}
                </ul>
              )}
            </li>
          ))}
        </ul>
      </nav>
      <section class="main">{db && table ? <TableDetail db={db} table={table} /> : <p class="muted">Pick a table.</p>}</section>
    </div>
  );
}

