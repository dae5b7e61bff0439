// Administration: forms that write the same SQL statements an administrator would
// type (shown, copyable, then run), and the built-in provider's users and groups.
import { useEffect, useState } from 'preact/hooks';
import { api, runSql, ident, quote } from './api.js';
import { forgetSchema } from './sql_editor.jsx';

const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean).map(ident).join(', ');
const tableName = (s) => s.split('.').map((p) => ident(p.trim())).join('.');

// Each form: its fields and the statement they make.
const FORMS = {
  grant: {
    label: 'Grant on a table',
    fields: [['privileges', 'SELECT'], ['columns', ''], ['table', 'sales.customers'], ['to', 'GROUP'], ['name', 'analysts']],
    sql: (f) => `GRANT ${f.privileges.toUpperCase().replace(/[^A-Z_, ]/g, '')}${f.columns.trim() ? ` (${list(f.columns)})` : ''} ON TABLE ${tableName(f.table)} TO ${f.to} ${ident(f.name)}`,
  },
  revoke: {
    label: 'Revoke on a table',
    fields: [['privileges', 'SELECT'], ['table', 'sales.customers'], ['to', 'GROUP'], ['name', 'analysts']],
    sql: (f) => `REVOKE ${f.privileges.toUpperCase().replace(/[^A-Z_, ]/g, '')} ON TABLE ${tableName(f.table)} FROM ${f.to} ${ident(f.name)}`,
  },
  filter: {
    label: 'Create a data filter',
    fields: [['filter', 'eu_rows'], ['table', 'sales.orders'], ['excluding', ''], ['row_filter', "region = 'EU'"]],
    sql: (f) => `CREATE DATA FILTER ${ident(f.filter)} ON ${tableName(f.table)}${f.excluding.trim() ? ` EXCLUDING (${list(f.excluding)})` : ''}${f.row_filter.trim() ? ` ROW FILTER ${f.row_filter}` : ''}`,
  },
  mask: {
    label: 'Mask a column',
    fields: [['table', 'sales.customers'], ['column', 'email'], ['expression', "regexp_replace(email, '^[^@]+', '***')"], ['exempt', '']],
    sql: (f) => `ALTER TABLE ${tableName(f.table)} ALTER COLUMN ${ident(f.column)} SET MASK ${f.expression}${f.exempt.trim() ? ` EXEMPT ${f.exempt}` : ''}`,
  },
  tag: {
    label: 'Tag a column',
    fields: [['table', 'sales.customers'], ['column', 'email'], ['tag', 'sensitivity'], ['value', 'pii']],
    sql: (f) => `ALTER TABLE ${tableName(f.table)}${f.column.trim() ? ` ALTER COLUMN ${ident(f.column)}` : ''} SET TAG ${ident(f.tag)} = ${quote(f.value)}`,
  },
  role: {
    label: 'Create a role',
    fields: [['role', 'auditors']],
    sql: (f) => `CREATE ROLE ${ident(f.role)}`,
  },
  limit: {
    label: 'Set a limit',
    fields: [['limit', 'result_rows'], ['value', '100000'], ['to', 'GROUP'], ['name', 'analysts']],
    sql: (f) => `SET LIMIT ${ident(f.limit)} = ${/^\d+$/.test(f.value) ? f.value : quote(f.value)} FOR ${f.to} ${ident(f.name)}`,
  },
};

function PolicyForm({ kind }) {
  const form = FORMS[kind];
  const [values, setValues] = useState(() => Object.fromEntries(form.fields));
  const [msg, setMsg] = useState('');
  useEffect(() => { setValues(Object.fromEntries(form.fields)); setMsg(''); }, [kind]);
  const sql = form.sql(values);
  const run = () => runSql(sql).then(() => { setMsg('Done.'); forgetSchema(); }, (e) => setMsg(e.message));
  return (
    <section class="panel" aria-label={form.label}>
      <h3>{form.label}</h3>
      <div class="form-grid">
        {form.fields.map(([k]) => k === 'to' ? (
          <label>Grantee kind
            <select value={values.to} onChange={(e) => setValues({ ...values, to: e.currentTarget.value })}>
              <option>USER</option><option>GROUP</option><option>ROLE</option>
            </select>
          </label>
        ) : (
          <label>{k.replace('_', ' ')} <input value={values[k]} onInput={(e) => setValues({ ...values, [k]: e.currentTarget.value })} /></label>
        ))}
      </div>
      <pre class="sql" data-testid="admin-sql">{sql}</pre>
      <button type="button" onClick={() => navigator.clipboard.writeText(sql)}>Copy</button>{' '}
      <button type="button" class="primary" onClick={run}>Run</button> <span role="status">{msg}</span>
    </section>
  );
}

function Principals() {
  const [users, setUsers] = useState([]);
  const [groups, setGroups] = useState([]);
  const [msg, setMsg] = useState('');
  const [tick, setTick] = useState(0);
  const [add, setAdd] = useState({ user: '', password: '', group: '', member: '' });
  useEffect(() => {
    api('GET', '/v1/users').then((r) => setUsers(r.users), (e) => setMsg(e.message));
    api('GET', '/v1/groups').then((r) => setGroups(r.groups), () => {});
  }, [tick]);
  const act = (p) => p.then(() => { setMsg('Done.'); setTick(tick + 1); }, (e) => setMsg(e.message));
  return (
    <section class="panel" aria-label="Users and groups">
      <h3>Users and groups (built-in provider)</h3>
      <table class="list">
        <thead><tr><th>User</th><th>Groups</th><th>Admin</th><th /></tr></thead>
        <tbody>{users.map((u) => <tr><td>{u.name}</td><td>{(u.groups || []).join(', ')}</td><td>{u.admin ? 'yes' : ''}</td>
          <td><button type="button" class="small" onClick={() => confirm(`Remove user ${u.name}?`) && act(api('DELETE', `/v1/users/${encodeURIComponent(u.name)}`))}>Remove</button></td></tr>)}</tbody>
      </table>
      <div class="row">
        <input aria-label="New user name" placeholder="user" value={add.user} onInput={(e) => setAdd({ ...add, user: e.currentTarget.value })} />
        <input aria-label="New user password" type="password" placeholder="password" value={add.password} onInput={(e) => setAdd({ ...add, password: e.currentTarget.value })} />
        <button type="button" onClick={() => act(api('POST', '/v1/users', { name: add.user, password: add.password }))}>Add user</button>
      </div>
      <p>Groups: {groups.map((g) => (typeof g === 'string' ? g : g.name)).join(', ')}</p>
      <div class="row">
        <input aria-label="Group" placeholder="group" value={add.group} onInput={(e) => setAdd({ ...add, group: e.currentTarget.value })} />
        <button type="button" onClick={() => act(api('POST', '/v1/groups', { name: add.group }))}>Add group</button>
        <input aria-label="Member to add" placeholder="user" value={add.member} onInput={(e) => setAdd({ ...add, member: e.currentTarget.value })} />
        <button type="button" onClick={() => act(api('PUT', `/v1/groups/${encodeURIComponent(add.group)}/members/${encodeURIComponent(add.member)}`))}>Add to group</button>
      </div>
      <p role="status">{msg}</p>
    </section>
  );
}

export function Admin({ session }) {
  const [kind, setKind] = useState('grant');
  if (!session.admin) return <p>Administration is for data-lake administrators.</p>;
  return (
    <div>
      <h1>Administration</h1>
      <div class="tabs" role="tablist">
        {Object.entries(FORMS).map(([k, f]) => (
          <button type="button" role="tab" aria-selected={k === kind} class={k === kind ? 'active' : ''} onClick={() => setKind(k)}>{f.label}</button>
        ))}
      </div>
      <PolicyForm kind={kind} />
      <Principals />
    </div>
  );
}
