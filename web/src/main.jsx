// The studio's shell: the signed-in user, the navigation and the page of the URL's
// hash (#/workspaces, #/workspaces/ID, #/catalog, #/jobs, #/quality, #/admin, #/audit).
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { loadSession, csrfToken } from './api.js';
import { setHistoryUser } from './history.js';
import { Workspaces } from './workspaces.jsx';
import { Notebook } from './notebook.jsx';
import { Catalog } from './catalog.jsx';
import { Jobs } from './jobs.jsx';
import { Quality } from './quality.jsx';
import { Admin } from './admin.jsx';
import { Audit } from './audit.jsx';
import './style.css';

function useHash() {
  const [hash, setHash] = useState(window.location.hash || '#/workspaces');
  useEffect(() => {
    const on = () => setHash(window.location.hash || '#/workspaces');
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function initialTheme() {
  const saved = localStorage.getItem('tarn-theme');
  if (saved === 'light' || saved === 'dark') return saved;
  return window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

const PAGES = [
  { key: 'workspaces', label: 'Workspaces' },
  { key: 'catalog', label: 'Catalog' },
  { key: 'jobs', label: 'Jobs' },
  { key: 'quality', label: 'Quality' },
  { key: 'admin', label: 'Administration', admin: true },
  { key: 'audit', label: 'Audit' },
];

function Page({ parts, session }) {
  switch (parts[0]) {
    case 'workspaces':
      return parts[1] ? <Notebook id={parts[1]} session={session} /> : <Workspaces session={session} />;
    case 'catalog':
      return <Catalog db={parts[1]} table={parts[2]} />;
    case 'jobs':
      return <Jobs app={parts[1]} run={parts[2]} />;
    case 'quality':
      return <Quality />;
    case 'admin':
      return <Admin session={session} />;
    case 'audit':
      return <Audit />;
    default:
      return <p>No such page. <a href="#/workspaces">Workspaces</a></p>;
  }
}

function App() {
  const [session, setSession] = useState(null);
  const [error, setError] = useState('');
  const [theme, setTheme] = useState(initialTheme);
  const hash = useHash();
  useEffect(() => {
    loadSession().then((s) => { setHistoryUser(s.user); setSession(s); }, (e) => setError(e.message));
  }, []);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('tarn-theme', theme);
  }, [theme]);
  if (error) return <p role="alert" class="error">{error}</p>;
  if (!session) return <p class="muted">Loading…</p>;
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (!parts.length) parts.push('workspaces');
  return (
    <div class="shell">
      <header class="top">
        <span class="brand">Tarn studio</span>
        <nav aria-label="Main">
          {PAGES.filter((p) => !p.admin || session.admin).map((p) => (
            <a href={'#/' + p.key} class={parts[0] === p.key ? 'active' : ''} aria-current={parts[0] === p.key ? 'page' : undefined}>
              {p.label}
            </a>
          ))}
        </nav>
        <span class="spacer" />
        <button type="button" class="ghost" aria-label="Switch light or dark theme" onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}>
          {theme === 'dark' ? 'Light' : 'Dark'}
        </button>
        <span class="who" title={session.groups.join(', ')} data-testid="user">
          {session.user}
        </span>
        <form method="post" action="/studio/logout">
          <input type="hidden" name="csrf" value={csrfToken()} />
          <button type="submit" class="ghost">Sign out</button>
        </form>
      </header>
      <main class="page">
        <Page parts={parts} session={session} />
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app'));
