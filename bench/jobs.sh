#!/usr/bin/env bash
# Benchmark of the job service, written to bench/results/jobs-<date>.md: N small job
# runs (SELECT 1) submitted to an application with max_concurrent_runs 50 by CLIENTS
# concurrent submitters; reports submit->RUNNING latency (the run's queued_duration_ms,
# measured by the server: started - created) p50/p99, submissions/s as the clients saw
# them, and runs/s from the first submission to the last run's end.
# Usage: bench/jobs.sh [RUNS] [CLIENTS]   (default 1000 runs, 8 clients)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${1:-1000}"
CLIENTS="${2:-8}"
BUILD="${TARN_BUILD_DIR:-$ROOT/build}"
source "$ROOT/bench/lib.sh"
"$ROOT/scripts/setup"
"$ROOT/scripts/build" tarn
TARN="$BUILD/tarn"
WORK="$(mktemp -d)"
PORT=$((20000 + RANDOM % 20000))
trap 'kill "${SERVER:-}" 2>/dev/null || true; wait "${SERVER:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
echo "bench-admin-pw-1" | "$TARN" init -d "$WORK/data" --admin-password-stdin >/dev/null 2>&1
bench_server_config "$WORK/server.toml"
bench_start_server "$TARN" "$WORK/data" "$PORT" "$WORK/server.toml" "$WORK/server.log"
TOKEN="$(bench_token "$PORT" admin bench-admin-pw-1)"
URL="http://127.0.0.1:$PORT"
APP="$(curl -sf -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"name": "bench", "max_concurrent_runs": 50}' "$URL/v1/applications" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"

echo "== submitting $RUNS runs with $CLIENTS clients" >&2
BODY='{"job": {"type": "sql", "script": "SELECT 1"}}'
START=$(date +%s.%N)
seq "$RUNS" | xargs -P "$CLIENTS" -I{} curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -d "$BODY" "$URL/v1/applications/$APP/jobruns"
SUBMITTED=$(date +%s.%N)

echo "== waiting for every run to end" >&2
for _ in $(seq 600); do
  LEFT="$(curl -sf -H "Authorization: Bearer $TOKEN" "$URL/v1/applications/$APP/jobruns?limit=1000" |
    python3 -c 'import json,sys; print(sum(r["state"] not in ("SUCCESS","FAILED","CANCELLED") for r in json.load(sys.stdin)["job_runs"]))')"
  [ "$LEFT" = 0 ] && break
  sleep 0.2
done
STATS="$(curl -sf -H "Authorization: Bearer $TOKEN" "$URL/v1/applications/$APP/jobruns?limit=1000" | python3 -c '
import json, sys, statistics, datetime
runs = json.load(sys.stdin)["job_runs"]
t = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
q = sorted(r["queued_duration_ms"] for r in runs if r["queued_duration_ms"] is not None)
pct = lambda p: q[min(len(q) - 1, int(p * len(q)))]
span = max(t(r["ended_at"]) for r in runs) - min(t(r["created_at"]) for r in runs)
ok = sum(r["state"] == "SUCCESS" for r in runs)
print(f"runs={len(runs)} success={ok} p50={pct(0.5)} p99={pct(0.99)} max={q[-1]} span={span:.3f} rps={len(runs)/span:.1f}")')"
echo "$STATS" >&2
SUBMIT_S="$(awk -v a="$START" -v b="$SUBMITTED" 'BEGIN { printf "%.3f", b - a }')"
STAMP="$(date -u +%Y%m%d-%H%M%S)"
REPORT="$ROOT/bench/results/jobs-$STAMP.md"
{
  echo "# Job service: $RUNS small runs"
  echo
  echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(grep MemTotal /proc/meminfo | awk '{print $2, $3}') memory"
  echo "- server: \`tarn server\` (8 HTTP workers, 4 job workers), SQLite metadata store, on the same machine as the clients"
  echo "- runs: \`SELECT 1\` as the administrator, application max_concurrent_runs 50, submitted by $CLIENTS concurrent curl clients"
  echo "- latency: submit -> RUNNING is each run's queued_duration_ms (server clock: started_at - created_at)"
  echo
  echo "| runs | succeeded | submit->RUNNING p50 ms | p99 ms | max ms | submit time s | submissions/s | first submit -> last end s | runs/s |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  echo "| $(pick "$STATS" runs) | $(pick "$STATS" success) | $(pick "$STATS" p50) | $(pick "$STATS" p99) | $(pick "$STATS" max) | $SUBMIT_S | $(awk -v n="$RUNS" -v s="$SUBMIT_S" 'BEGIN { printf "%.0f", n / s }') | $(pick "$STATS" span) | $(pick "$STATS" rps) |"
  echo
  echo "Targets (issue 12): p50 <= 20 ms, >= 200 runs/s on 2 cores."
} >"$REPORT"
echo "wrote $REPORT" >&2
cat "$REPORT"
