// Jobs: the applications the user may use, their runs (live through the events
// stream), submitting a SQL job, a run's log, result, files and cancelling it, and
// the application's schedules.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api.js';
import { SqlEditor } from './sql_editor.jsx';

const ENDED = new Set(['SUCCESS', 'FAILED', 'CANCELLED']);
const enc = encodeURIComponent;

// Job run states as they change: EventSource on /v1/events (the cookie is sent;
// the browser reconnects by itself, resuming with Last-Event-ID).
function useRunEvents(app, onEvent) {
  const handler = useRef(onEvent);
  handler.current = onEvent;
  useEffect(() => {
    const es = new EventSource(`/v1/events?types=job_run&application=${enc(app)}&max_seconds=300`);
    es.addEventListener('job_run', (e) => handler.current(JSON.parse(e.data)));
    return () => es.close();
  }, [app]);
}

function Submit({ app, onSubmitted }) {
  const [sql, setSql] = useState('SELECT region, count(*) AS orders FROM sales.orders GROUP BY ALL');
  const [name, setName] = useState('');
  const [msg, setMsg] = useState('');
  const submit = () =>
    api('POST', `/v1/applications/${enc(app)}/jobruns`, { name: name || 'studio job', job: { type: 'sql', script: sql } }).then(
      (r) => { setMsg(`Submitted ${r.job_run_id}.`); onSubmitted(r.job_run_id); },
      (e) => setMsg(e.message),
    );
  return (
    <section class="panel" aria-label="Submit a SQL job">
      <h3>Submit a SQL job</h3>
      <label>Name <input value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="studio job" /></label>
      <SqlEditor value={sql} label="Job script" onChange={setSql} onRun={submit} />
      <button type="button" class="primary" onClick={submit}>Submit</button> <span role="status">{msg}</span>
    </section>
  );
}

function RunDetail({ app, run, live }) {
  const [info, setInfo] = useState(null);
  const [log, setLog] = useState([]);
  const [result, setResult] = useState(null);
  const [files, setFiles] = useState([]);
  const [msg, setMsg] = useState('');
  const base = `/v1/applications/${enc(app)}/jobruns/${enc(run)}`;
  useEffect(() => {
    api('GET', base).then(setInfo, (e) => setMsg(e.message));
    api('GET', `${base}/logs`).then((l) => setLog(l.lines), () => {});
  }, [run, live]);
  useEffect(() => {
    if (info?.state === 'SUCCESS') {
      api('GET', `${base}/result?limit=200`).then(setResult, () => setResult(null));
      api('GET', `${base}/files`).then((f) => setFiles(f.files), () => {});
    }
  }, [info?.state]);
  if (!info) return <p class="muted" role="status">{msg || 'Loading…'}</p>;
  const cancel = () => api('DELETE', base).then(setInfo, (e) => setMsg(e.message));
  return (
    <section class="panel" aria-label={`Job run ${run}`}>
      <h3>{info.name || run} <span class={'state ' + info.state} data-testid="run-state">{info.state}</span></h3>
      <p class="muted small">{run} · by {info.created_by} · created {info.created_at}{info.ended_at && ` · ended ${info.ended_at}`}</p>
      {info.state_details && <p>{info.state_details}</p>}
      {!ENDED.has(info.state) && <button type="button" onClick={cancel}>Cancel run</button>} <span role="status">{msg}</span>
      <h4>Log</h4>
      <pre class="log">{log.map((l) => `${l.at}  ${l.kind.padEnd(9)} ${l.message}`).join('\n')}</pre>
      {result && result.columns && (
        <>
          <h4>Result ({result.row_count} rows{result.truncated ? ', first 200' : ''})</h4>
          <table class="list">
            <thead><tr>{result.columns.map((c) => <th>{c.name ?? c}</th>)}</tr></thead>
            <tbody>{result.rows.map((r) => <tr>{result.columns.map((c) => <td>{String(r[c.name ?? c] ?? '')}</td>)}</tr>)}</tbody>
          </table>
        </>
      )}
      {files.length > 0 && (
        <>
          <h4>Files</h4>
          <ul>{files.map((f) => <li><a href={`${base}/files/${enc(f.name)}`} download>{f.name}</a> ({f.bytes} bytes)</li>)}</ul>
        </>
      )}
    </section>
  );
}

function Schedules({ app }) {
  const [list, setList] = useState([]);
  const [tick, setTick] = useState(0);
  const [form, setForm] = useState({ name: '', cron: '0 6 * * *', timezone: 'UTC', script: 'SELECT 1' });
  const [msg, setMsg] = useState('');
  const base = `/v1/applications/${enc(app)}/schedules`;
  useEffect(() => {
    api('GET', base).then((r) => setList(r.schedules || []), () => setList([]));
  }, [app, tick]);
  const done = (text) => () => { setMsg(text); setTick(tick + 1); };
  const create = (e) => {
    e.preventDefault();
    const body = { name: form.name || 'studio schedule', cron: form.cron, timezone: form.timezone, job: { type: 'sql', script: form.script } };
    api('POST', base, body).then(done('Schedule created.'), (err) => setMsg(err.message));
  };
  const field = (k, label) => (
    <label>{label} <input value={form[k]} onInput={(e) => setForm({ ...form, [k]: e.currentTarget.value })} /></label>
  );
  return (
    <section class="panel" aria-label="Schedules">
      <h3>Schedules</h3>
      {list.length > 0 && (
        <table class="list">
          <thead><tr><th>Name</th><th>Cron</th><th>Time zone</th><th>Next fire</th><th>Last run</th><th /></tr></thead>
          <tbody>
            {list.map((s) => (
              <tr>
                <td>{s.name}</td><td><code>{s.cron}</code></td><td>{s.timezone}</td><td>{s.next_fire_at || ''}</td><td>{s.last_job_run_id || ''}</td>
                <td><button type="button" class="small" onClick={() => api('DELETE', `${base}/${enc(s.schedule_id)}`).then(done('Schedule deleted.'), (err) => setMsg(err.message))}>Delete</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form class="form-grid" onSubmit={create} aria-label="New schedule">
        {field('name', 'Name')}
        {field('cron', 'Cron (minute hour day month weekday)')}
        {field('timezone', 'Time zone')}
        {field('script', 'SQL script')}
        <button type="submit">Create schedule</button>
      </form>
      <p role="status">{msg}</p>
    </section>
  );
}

export function Jobs({ app = 'default', run }) {
  const [apps, setApps] = useState([]);
  const [runs, setRuns] = useState([]);
  const [tick, setTick] = useState(0);
  const [msg, setMsg] = useState('');
  useEffect(() => {
    api('GET', '/v1/applications').then((r) => setApps(r.applications), (e) => setMsg(e.message));
  }, []);
  useEffect(() => {
    api('GET', `/v1/applications/${enc(app)}/jobruns?limit=50`).then((r) => setRuns(r.job_runs), (e) => setMsg(e.message));
  }, [app, tick]);
  useRunEvents(app, (ev) => {
    setRuns((old) => {
      const i = old.findIndex((r) => r.job_run_id === ev.job_run_id);
      if (i < 0) { setTick((t) => t + 1); return old; }
      const next = [...old];
      next[i] = { ...next[i], ...ev };
      return next;
    });
    if (ev.job_run_id === run) setTick((t) => t + 1);
  });
  return (
    <div class="split">
      <nav class="side" aria-label="Applications">
        <h2>Jobs</h2>
        <ul class="tree">{apps.map((a) => <li><a href={`#/jobs/${enc(a.id)}`} class={a.id === app ? 'active' : ''}>{a.name}</a> <small class="muted">{a.state}</small></li>)}</ul>
      </nav>
      <section class="main">
        <p class="error" role="alert">{msg}</p>
        {run && <RunDetail app={app} run={run} live={tick} />}
        <h3>Runs of {app}</h3>
        <table class="list" aria-label="Job runs">
          <thead><tr><th>Run</th><th>Name</th><th>State</th><th>By</th><th>Created</th></tr></thead>
          <tbody>
            {runs.map((r) => (
              <tr>
                <td><a href={`#/jobs/${enc(app)}/${enc(r.job_run_id)}`}>{r.job_run_id}</a></td>
                <td>{r.name}</td><td><span class={'state ' + r.state}>{r.state}</span></td><td>{r.created_by}</td><td>{r.created_at}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <Submit app={app} onSubmitted={(id) => { window.location.hash = `#/jobs/${enc(app)}/${enc(id)}`; setTick((t) => t + 1); }} />
        <Schedules app={app} />
      </section>
    </div>
  );
}
