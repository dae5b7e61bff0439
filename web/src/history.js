// The user's query history, kept in this browser (the audit keeps the server's record).
const MAX = 100;
let KEY = 'tarn-history';

// Each user of this browser has a history of their own.
export function setHistoryUser(user) {
  KEY = `tarn-history:${user}`;
}

export function history() {
  try {
    return JSON.parse(localStorage.getItem(KEY) || '[]');
  } catch {
    return [];
  }
}

export function remember(sql) {
  const list = history().filter((h) => h.sql !== sql);
  list.unshift({ sql, at: new Date().toISOString() });
  localStorage.setItem(KEY, JSON.stringify(list.slice(0, MAX)));
}
