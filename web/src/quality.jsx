// Quality: the validation and reconciliation job runs the user may see, with the
// files they wrote (the HTML report opens embedded).
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';

const enc = encodeURIComponent;

export function Quality() {
  const [runs, setRuns] = useState(null);
  const [report, setReport] = useState('');
  const [files, setFiles] = useState({});
  useEffect(() => {
    (async () => {
      const { applications } = await api('GET', '/v1/applications');
      const all = [];
      for (const a of applications) {
        const { job_runs } = await api('GET', `/v1/applications/${enc(a.id)}/jobruns?limit=100`).catch(() => ({ job_runs: [] }));
        for (const r of job_runs) if (r.job && (r.job.type === 'validation' || r.job.type === 'reconciliation')) all.push(r);
      }
      setRuns(all);
    })().catch(() => setRuns([]));
  }, []);
  const open = async (r) => {
    const base = `/v1/applications/${enc(r.application_id)}/jobruns/${enc(r.job_run_id)}`;
    const f = await api('GET', `${base}/files`).catch(() => ({ files: [] }));
    setFiles({ ...files, [r.job_run_id]: { base, list: f.files } });
  };
  return (
    <div>
      <h1>Quality runs</h1>
      {!runs ? <p class="muted">Loading…</p> : !runs.length ? (
        <p class="muted">No validation or reconciliation runs yet. Submit one from the command line (<code>tarn validate --submit</code>, <code>tarn recon submit</code>) or the Jobs page.</p>
      ) : (
        <table class="list">
          <thead><tr><th>Run</th><th>Type</th><th>State</th><th>By</th><th>Created</th><th>Files</th></tr></thead>
          <tbody>
            {runs.map((r) => (
              <tr>
                <td>{r.name || r.job_run_id}</td><td>{r.job.type}</td><td><span class={'state ' + r.state}>{r.state}</span></td><td>{r.created_by}</td><td>{r.created_at}</td>
                <td>
                  {files[r.job_run_id] ? files[r.job_run_id].list.map((f) => (
                    f.name.endsWith('.html')
                      ? <button type="button" class="small" onClick={() => setReport(`${files[r.job_run_id].base}/files/${enc(f.name)}?inline=1`)}>{f.name}</button>
                      : <a href={`${files[r.job_run_id].base}/files/${enc(f.name)}`} download>{f.name} </a>
                  )) : <button type="button" class="small" onClick={() => open(r)}>Files</button>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {report && <iframe class="report" title="Report" src={report} sandbox="" />}
    </div>
  );
}
