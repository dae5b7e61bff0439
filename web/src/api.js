// The studio's only door to the server: same-origin fetches that carry the session
// cookie, with the session's CSRF token on every state-changing request.

let csrf = '';

export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// The signed-in user ({user, groups, admin, csrf_token}); without a session the
// browser goes to the sign-in page.
export async function loadSession() {
  const res = await fetch('/studio/api/session', { credentials: 'same-origin' });
  if (res.status === 401) {
    window.location.assign('/studio/login');
    throw new ApiError(401, 'signed out');
  }
  const s = await res.json();
  csrf = s.csrf_token;
  return s;
}

export function csrfToken() {
  return csrf;
}

async function errorOf(res) {
  let message = `${res.status} ${res.statusText}`;
  let code = '';
  try {
    const body = await res.json();
    if (body && body.error) {
      message = body.error.message || message;
      code = body.error.code || '';
    }
  } catch {
    /* not JSON */
  }
  if (res.status === 401) window.location.assign('/studio/login');
  return new ApiError(res.status, message, code);
}

// A request; resolves to the response (checked: 2xx) or throws ApiError.
export async function request(method, path, body, headers = {}) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', ...headers } };
  if (method !== 'GET' && method !== 'HEAD') init.headers['X-CSRF-Token'] = csrf;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  if (!res.ok) throw await errorOf(res);
  return res;
}

export async function api(method, path, body) {
  const res = await request(method, path, body);
  const text = await res.text();
  return text ? JSON.parse(text) : {};
}

// Runs SQL as the user through the Runner; the first page of the last statement's
// result ({query_id, columns, rows, total_rows, next_uri, ...}).
export function runSql(sql, { limit = 500, queryId } = {}) {
  const body = { sql, limit };
  if (queryId) body.query_id = queryId;
  return api('POST', '/v1/statements', body);
}

// The rows of a one-statement query as objects (small results: catalog, admin).
export async function rowsOf(sql) {
  const r = await runSql(sql, { limit: 10000 });
  return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i]])));
}

export function cancelQuery(id) {
  return api('DELETE', `/v1/queries/${encodeURIComponent(id)}`);
}

export function newQueryId() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return 'studio-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// SQL text of a name: an identifier as is when it is one, else double-quoted.
export function ident(name) {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : '"' + name.replace(/"/g, '""') + '"';
}

export function quote(text) {
  return "'" + String(text).replace(/'/g, "''") + "'";
}
