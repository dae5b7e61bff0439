// The workspaces the user owns or that were shared with them; a new one.
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';

export function Workspaces() {
  const [list, setList] = useState(null);
  const [name, setName] = useState('');
  const [msg, setMsg] = useState('');
  useEffect(() => {
    api('GET', '/v1/workspaces').then((r) => setList(r.workspaces), (e) => setMsg(e.message));
  }, []);
  const create = (e) => {
    e.preventDefault();
    api('POST', '/v1/workspaces', { name: name.trim() || 'Untitled', cells: [{ kind: 'sql', source: 'SHOW TABLES' }] }).then(
      (w) => { window.location.hash = `#/workspaces/${w.id}`; },
      (err) => setMsg(err.message),
    );
  };
  return (
    <div>
      <h1>Workspaces</h1>
      <form class="row" onSubmit={create}>
        <input aria-label="New workspace name" placeholder="New workspace name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <button type="submit" class="primary">New workspace</button>
      </form>
      <p role="status" class="error">{msg}</p>
      {!list ? <p class="muted">Loading…</p> : !list.length ? <p class="muted">No workspaces yet.</p> : (
        <table class="list">
          <thead><tr><th>Name</th><th>Owner</th><th>Access</th><th>Revision</th><th>Updated</th></tr></thead>
          <tbody>
            {list.map((w) => (
              <tr>
                <td><a href={`#/workspaces/${w.id}`}>{w.name}</a></td>
                <td>{w.owner}</td><td>{w.access}</td><td>{w.revision}</td>
                <td>{new Date(w.updated_ms).toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
