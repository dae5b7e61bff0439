// A small Markdown renderer for notebook text cells that builds elements, never HTML
// strings: headings, paragraphs, lists, code blocks, **bold**, *italic*, `code` and
// links to http(s) addresses. Anything else is shown as the text it is.

function inline(text) {
  const out = [];
  const re = /(\*\*[^*]+\*\*|\*[^*]+\*|`[^`]+`|\[[^\]]+\]\([^)\s]+\))/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    const t = m[0];
    if (t.startsWith('**')) out.push(<strong>{t.slice(2, -2)}</strong>);
    else if (t.startsWith('`')) out.push(<code>{t.slice(1, -1)}</code>);
    else if (t.startsWith('*')) out.push(<em>{t.slice(1, -1)}</em>);
    else {
      const [, label, href] = t.match(/^\[([^\]]+)\]\(([^)\s]+)\)$/);
      out.push(/^https?:\/\//i.test(href) ? <a href={href} rel="noopener noreferrer" target="_blank">{label}</a> : t);
    }
    last = m.index + t.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

export function Markdown({ source }) {
  const blocks = [];
  const lines = source.split('\n');
  for (let i = 0; i < lines.length; ) {
    const line = lines[i];
    if (line.startsWith('```')) {
      const body = [];
      for (i++; i < lines.length && !lines[i].startsWith('```'); i++) body.push(lines[i]);
      i++;
      blocks.push(<pre><code>{body.join('\n')}</code></pre>);
    } else if (/^#{1,4} /.test(line)) {
      const level = line.indexOf(' ');
      const H = `h${level + 1}`;
      blocks.push(<H>{inline(line.slice(level + 1))}</H>);
      i++;
    } else if (/^\s*([-*]|\d+\.) /.test(line)) {
      const ordered = /^\s*\d+\./.test(line);
      const items = [];
      for (; i < lines.length && /^\s*([-*]|\d+\.) /.test(lines[i]); i++) items.push(<li>{inline(lines[i].replace(/^\s*([-*]|\d+\.) /, ''))}</li>);
      blocks.push(ordered ? <ol>{items}</ol> : <ul>{items}</ul>);
    } else if (!line.trim()) {
      i++;
    } else {
      const para = [];
      for (; i < lines.length && lines[i].trim() && !/^(#{1,4} |```|\s*([-*]|\d+\.) )/.test(lines[i]); i++) para.push(lines[i]);
      blocks.push(<p>{inline(para.join(' '))}</p>);
    }
  }
  return <div class="markdown">{blocks}</div>;
}
