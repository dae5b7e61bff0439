// A CodeMirror 6 SQL editor: highlighting, completion from the tables and columns the
// caller may see (information_schema, loaded once), Ctrl-Enter runs the selection or
// else the whole text.
import { useEffect, useRef } from 'preact/hooks';
import { EditorView, basicSetup } from 'codemirror';
import { keymap } from '@codemirror/view';
import { Prec } from '@codemirror/state';
import { sql, PostgreSQL } from '@codemirror/lang-sql';
import { rowsOf } from './api.js';

let schemaPromise = null;

// The nonce the server's Content-Security-Policy allows for <style> elements: the
// editor's styles go in one.
function styleNonce() {
  return document.querySelector('meta[name="tarn-style-nonce"]')?.content || '';
}

// {db: {table: [columns]}} of what the caller may see.
export function visibleSchema() {
  if (!schemaPromise) {
    schemaPromise = rowsOf(
      'SELECT table_schema, table_name, column_name FROM information_schema.columns ORDER BY 1, 2, ordinal_position',
    ).then(
      (rows) => {
        const schema = {};
        for (const r of rows) ((schema[r.table_schema] ??= {})[r.table_name] ??= []).push(r.column_name);
        return schema;
      },
      () => ({}),
    );
  }
  return schemaPromise;
}

export function forgetSchema() {
  schemaPromise = null;
}

// The editor owns its text once mounted: `value` is the text it starts with, and
// onChange reports every edit (feeding the text back in would race the edits). To
// show another text, mount a new editor (a new key).
export function SqlEditor({ value, onChange, onRun, label, readOnly = false }) {
  const host = useRef(null);
  const view = useRef(null);
  const handlers = useRef({ onChange, onRun });
  handlers.current = { onChange, onRun };
  useEffect(() => {
    let alive = true;
    const run = (v) => {
      const sel = v.state.selection.main;
      const text = sel.empty ? v.state.doc.toString() : v.state.sliceDoc(sel.from, sel.to);
      handlers.current.onRun?.(text);
      return true;
    };
    const make = (schema) => {
      if (!alive) return;
      view.current = new EditorView({
        doc: value,
        parent: host.current,
        extensions: [
          basicSetup,
          sql({ dialect: PostgreSQL, schema, upperCaseKeywords: true }),
          Prec.highest(keymap.of([{ key: 'Mod-Enter', run }])),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) handlers.current.onChange?.(u.state.doc.toString());
          }),
          EditorView.editable.of(!readOnly),
          EditorView.contentAttributes.of({ 'aria-label': label || 'SQL' }),
          EditorView.cspNonce.of(styleNonce()),
        ],
      });
    };
    visibleSchema().then(make);
    return () => {
      alive = false;
      view.current?.destroy();
      view.current = null;
    };
  }, [readOnly]);
  return <div class="editor" ref={host} />;
}
