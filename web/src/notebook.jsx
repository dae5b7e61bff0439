// A workspace: its cells, saving (each save is a revision), revision history and
// sharing. Readers may run every cell (as themselves) but not save.
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { Cell } from './cell.jsx';
import { history } from './history.js';

let nextKey = 1;
const withKeys = (cells) => cells.map((c) => ({ ...c, key: nextKey++ }));
const withoutKeys = (cells) => cells.map(({ key, ...c }) => c);

function Shares({ ws, onSaved }) {
  const [rows, setRows] = useState(ws.shares || []);
  const [msg, setMsg] = useState('');
  const set = (i, k, v) => setRows(rows.map((r, j) => (j === i ? { ...r, [k]: v } : r)));
  const save = () =>
    api('PUT', `/v1/workspaces/${ws.id}/shares`, { shares: rows.filter((r) => r.name.trim()) }).then(
      (w) => { setMsg('Sharing saved.'); onSaved(w); },
      (e) => setMsg(e.message),
    );
  return (
    <section class="panel" aria-label="Sharing">
      <h3>Sharing</h3>
      <p class="muted small">Sharing a workspace never shares data: whoever runs a cell sees what they are granted.</p>
      {rows.map((r, i) => (
        <div class="row">
          <select aria-label="Share with a user or a group" value={r.kind} onChange={(e) => set(i, 'kind', e.currentTarget.value)}>
            <option value="user">user</option>
            <option value="group">group</option>
          </select>
          <input aria-label="Name to share with" value={r.name} onInput={(e) => set(i, 'name', e.currentTarget.value)} />
          <select aria-label="Access" value={r.access} onChange={(e) => set(i, 'access', e.currentTarget.value)}>
            <option value="read">can read</option>
            <option value="edit">can edit</option>
          </select>
          <button type="button" class="small" onClick={() => setRows(rows.filter((_, j) => j !== i))}>Remove</button>
        </div>
      ))}
      <button type="button" class="small" onClick={() => setRows([...rows, { kind: 'user', name: '', access: 'read' }])}>Add a person or group</button>{' '}
      <button type="button" class="primary small" onClick={save}>Save sharing</button> <span role="status">{msg}</span>
    </section>
  );
}

function Revisions({ ws, onRestore }) {
  const [list, setList] = useState(null);
  useEffect(() => {
    api('GET', `/v1/workspaces/${ws.id}/revisions`).then((r) => setList(r.revisions), () => setList([]));
  }, [ws.revision]);
  const open = (rev) => api('GET', `/v1/workspaces/${ws.id}/revisions/${rev}`).then(onRestore);
  return (
    <section class="panel" aria-label="Revisions">
      <h3>Revisions</h3>
      {!list ? <p class="muted">Loading…</p> : (
        <ol class="plain">
          {list.map((r) => (
            <li>
              <b>#{r.revision}</b> {new Date(r.created_ms).toLocaleString()} by {r.author}{' '}
              {r.revision !== ws.revision && <button type="button" class="small" onClick={() => open(r.revision)}>Load</button>}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

export function Notebook({ id }) {
  const [ws, setWs] = useState(null);
  const [cells, setCells] = useState([]);
  const [name, setName] = useState('');
  const [dirty, setDirty] = useState(false);
  const [msg, setMsg] = useState('');
  const [panel, setPanel] = useState('');
  const load = (w) => { setWs(w); setCells(withKeys(w.cells)); setName(w.name); setDirty(false); };
  useEffect(() => {
    api('GET', `/v1/workspaces/${encodeURIComponent(id)}`).then(load, (e) => setMsg(e.message));
  }, [id]);
  const editable = ws && ws.access !== 'read';
  const change = (next) => { setCells(next); setDirty(true); };
  const save = () =>
    api('PUT', `/v1/workspaces/${ws.id}`, { name, cells: withoutKeys(cells), base_revision: ws.revision }).then(
      // The cells on the page are what was saved: they stay (with their results).
      (w) => { setWs(w); setName(w.name); setDirty(false); setMsg(`Saved revision ${w.revision}.`); },
      (e) => setMsg(e.status === 409 ? `${e.message} Reload to see their changes.` : e.message),
    );
  useEffect(() => {
    const onKey = (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key === 's' && editable) { e.preventDefault(); save(); }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });
  if (!ws) return <p class={msg ? 'error' : 'muted'} role={msg ? 'alert' : 'status'}>{msg || 'Loading…'}</p>;
  const add = (kind, source = '') => change([...cells, { kind, source, key: nextKey++ }]);
  const move = (i, d) => {
    const j = i + d;
    if (j < 0 || j >= cells.length) return;
    const next = [...cells];
    [next[i], next[j]] = [next[j], next[i]];
    change(next);
  };
  return (
    <div class="notebook">
      <div class="toolbar">
        <input class="title" aria-label="Workspace name" value={name} readOnly={!editable} onInput={(e) => { setName(e.currentTarget.value); setDirty(true); }} />
        <span class="muted small">
          {ws.owner}{ws.access !== 'owner' && ` · shared with you (${ws.access})`} · revision {ws.revision}{dirty && ' · unsaved changes'}
        </span>
        <span class="spacer" />
        {editable && <button type="button" class="primary" onClick={save} title="Ctrl-S">Save</button>}
        <button type="button" onClick={() => setPanel(panel === 'revisions' ? '' : 'revisions')}>Revisions</button>
        {ws.access === 'owner' && <button type="button" onClick={() => setPanel(panel === 'share' ? '' : 'share')}>Share</button>}
        <button type="button" onClick={() => setPanel(panel === 'history' ? '' : 'history')}>Query history</button>
      </div>
      <p role="status" class="muted">{msg}</p>
      {panel === 'share' && <Shares ws={ws} onSaved={(w) => setWs({ ...ws, shares: w.shares })} />}
      {panel === 'revisions' && <Revisions ws={ws} onRestore={(r) => { setCells(withKeys(r.cells)); setName(r.name); setDirty(true); setMsg(`Loaded revision ${r.revision}: save to make it current.`); }} />}
      {panel === 'history' && (
        <section class="panel" aria-label="Query history">
          <h3>Query history</h3>
          <ol class="plain">
            {history().slice(0, 30).map((h) => (
              <li><code class="clip">{h.sql}</code> {editable && <button type="button" class="small" onClick={() => add('sql', h.sql)}>Add as cell</button>}</li>
            ))}
          </ol>
        </section>
      )}
      {cells.map((c, i) => (
        <Cell key={c.key} cell={c} index={i} editable={editable}
          onChange={(nc) => change(cells.map((x, j) => (j === i ? { ...nc, key: c.key } : x)))}
          onRemove={() => change(cells.filter((_, j) => j !== i))}
          onMove={(d) => move(i, d)} />
      ))}
      {editable && (
        <div class="add-cells">
          <button type="button" onClick={() => add('sql')}>+ SQL</button>
          <button type="button" onClick={() => add('markdown')}>+ Text</button>
        </div>
      )}
    </div>
  );
}
