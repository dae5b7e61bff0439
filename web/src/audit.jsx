// The audit trail (system.audit, for AUDIT holders): filter by user, table, outcome
// and time.
import { useState } from 'preact/hooks';
import { api, runSql, quote } from './api.js';
import { Grid } from './grid.jsx';

export function Audit() {
  const [f, setF] = useState({ user: '', table: '', outcome: '', since: '', until: '' });
  const [state, setState] = useState({});
  const [chain, setChain] = useState('');
  const where = [];
  if (f.user.trim()) where.push(`user_name = ${quote(f.user.trim())}`);
  if (f.table.trim()) where.push(`contains(lower(statement), ${quote(f.table.trim().toLowerCase())})`);
  if (f.outcome) where.push(`outcome = ${quote(f.outcome)}`);
  if (f.since) where.push(`time >= ${quote(new Date(f.since).toISOString())}`);
  if (f.until) where.push(`time <= ${quote(new Date(f.until).toISOString())}`);
  const sql = `SELECT seq, time, user_name, client, statement_type, statement, outcome, reason, rows FROM system.audit${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY seq DESC`;
  const search = (e) => {
    e?.preventDefault();
    setState({ running: true });
    runSql(sql, { limit: 500 }).then((result) => setState({ result }), (err) => setState({ error: err.message }));
  };
  const field = (k, label, type = 'text') => (
    <label>{label} <input type={type} value={f[k]} onInput={(e) => setF({ ...f, [k]: e.currentTarget.value })} /></label>
  );
  const verify = () =>
    api('GET', '/v1/audit/verify').then(
      (r) => setChain(r.ok ? `The chain holds: ${r.events.toLocaleString()} events in ${r.segments} segments.` : `Broken: ${r.problem}`),
      (e) => setChain(e.message),
    );
  return (
    <div>
      <h1>Audit</h1>
      <p class="row">
        <button type="button" onClick={verify}>Verify the chain</button> <span role="status" data-testid="chain">{chain}</span>
      </p>
      <form class="form-grid" onSubmit={search} aria-label="Audit filters">
        {field('user', 'User')}
        {field('table', 'Table or text in the statement')}
        <label>Outcome
          <select value={f.outcome} onChange={(e) => setF({ ...f, outcome: e.currentTarget.value })}>
            <option value="">any</option><option>ok</option><option>denied</option><option>failed</option><option>cancelled</option>
          </select>
        </label>
        {field('since', 'From', 'datetime-local')}
        {field('until', 'To', 'datetime-local')}
        <button type="submit" class="primary">Search</button>
      </form>
      <pre class="sql small">{sql}</pre>
      {state.running && <p class="muted" role="status">Searching…</p>}
      {state.error && <p class="error" role="alert">{state.error}</p>}
      {state.result && <Grid result={state.result} sql={sql} name="audit" />}
    </div>
  );
}
