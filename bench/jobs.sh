#!/usr/bin/env bash
# Benchmark of the job service, written to bench/results/jobs-<date>.md: N small job
# runs (SELECT 1) submitted to an application with max_concurrent_runs 50 by C
# concurrent submitters (each on one kept-alive connection), for each C in CLIENTS,
# REPS times each on a fresh server. Reports the medians over the repetitions of:
# submit->RUNNING latency p50/p99 (each run's queued_duration_ms, measured by the
# server: started - created), submissions/s as the clients saw them, and runs/s from
# the first submission to the last run's end. A CLIENTS entry C@R paces the C clients
# to R submissions/s together (an offered load below the service's capacity, where
# queue wait is the service's own latency; unpaced clients saturate it once they
# submit faster than runs execute, and then measure the backlog).
# Usage: bench/jobs.sh [RUNS] [CLIENTS] [REPS]   (default 1000 runs, "1 4 8 16 16@200 16@300", 3)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${1:-1000}"
CLIENTS="${2:-1 4 8 16 16@200 16@300}"
REPS="${3:-3}"
BUILD="${TARN_BUILD_DIR:-$ROOT/build}"
source "$ROOT/bench/lib.sh"
"$ROOT/scripts/setup"
"$ROOT/scripts/build" tarn
TARN="$BUILD/tarn"
WORK="$(mktemp -d)"
trap 'kill "${SERVER:-}" 2>/dev/null || true; wait "${SERVER:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
BODY='{"job": {"type": "sql", "script": "SELECT 1"}}'

# Submits RUNS runs with $1 clients (paced to $2 submissions/s; 0: as fast as
# answered) to a fresh server; prints one line of figures.
run_once() {
  local clients="$1" rate="$2" port=$((20000 + RANDOM % 20000))
  rm -rf "$WORK/data"
  echo "bench-admin-pw-1" | "$TARN" init -d "$WORK/data" --admin-password-stdin >/dev/null 2>&1
  bench_server_config "$WORK/server.toml"
  bench_start_server "$TARN" "$WORK/data" "$port" "$WORK/server.toml" "$WORK/server.log"
  local token url app start submitted
  token="$(bench_token "$port" admin bench-admin-pw-1)"
  url="http://127.0.0.1:$port"
  app="$(curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"name": "bench", "max_concurrent_runs": 50}' "$url/v1/applications" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
  start=$(date +%s.%N)
  python3 - "$port" "$token" "$app" "$RUNS" "$clients" "$BODY" "$rate" <<'PY'
import http.client, sys, threading, time
port, token, app, runs, clients, body, rate = sys.argv[1:]
rate = float(rate)
left = list(range(int(runs)))
t0 = time.time()
lock = threading.Lock()
bad = []
def submit():
    c = http.client.HTTPConnection("127.0.0.1", int(port))
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    while True:
        with lock:
            if not left:
                return
            k = int(runs) - len(left)
            left.pop()
        if rate > 0:
            time.sleep(max(0.0, t0 + k / rate - time.time()))
        c.request("POST", "/v1/applications/%s/jobruns" % app, body, headers)
        r = c.getresponse()
        r.read()
        if r.status != 201:
            bad.append(r.status)
threads = [threading.Thread(target=submit) for _ in range(int(clients))]
for t in threads: t.start()
for t in threads: t.join()
if bad:
    sys.exit("%d submissions refused: %s" % (len(bad), sorted(set(bad))))
PY
  submitted=$(date +%s.%N)
  local left
  for _ in $(seq 600); do
    left="$(curl -sf -H "Authorization: Bearer $token" "$url/v1/applications/$app/jobruns?limit=1000" |
      python3 -c 'import json,sys; print(sum(r["state"] not in ("SUCCESS","FAILED","CANCELLED") for r in json.load(sys.stdin)["job_runs"]))')"
    [ "$left" = 0 ] && break
    sleep 0.5
  done
  curl -sf -H "Authorization: Bearer $token" "$url/v1/applications/$app/jobruns?limit=1000" |
    python3 -c '
import json, sys, datetime
runs = json.load(sys.stdin)["job_runs"]
t = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
q = sorted(r["queued_duration_ms"] for r in runs if r["queued_duration_ms"] is not None)
pct = lambda p: q[min(len(q) - 1, int(p * len(q)))]
span = max(t(r["ended_at"]) for r in runs) - min(t(r["created_at"]) for r in runs)
ok = sum(r["state"] == "SUCCESS" for r in runs)
sub = float(sys.argv[2]) - float(sys.argv[1])
print(f"runs={len(runs)} success={ok} p50={pct(0.5)} p99={pct(0.99)} max={q[-1]} subs={len(runs)/sub:.0f} rps={len(runs)/span:.1f}")' \
      "$start" "$submitted"
  kill "$SERVER"
  wait "$SERVER" 2>/dev/null || true
}

ROWS=""
for spec in $CLIENTS; do
  c="${spec%@*}"
  rate=0
  [ "$spec" != "$c" ] && rate="${spec#*@}"
  LINES=""
  for r in $(seq "$REPS"); do
    echo "== $RUNS runs, $c clients (paced: ${rate}/s), repetition $r of $REPS" >&2
    LINE="$(run_once "$c" "$rate")"
    echo "   $LINE" >&2
    LINES+="$LINE"$'\n'
  done
  vals() { while read -r l; do if [ -n "$l" ]; then pick "$l" "$1"; fi; done <<<"$LINES"; }
  col() { vals "$1" | median; }
  rng() { vals "$1" | sort -g | awk 'NR == 1 { a = $1 } { b = $1 } END { print a "-" b }'; }
  OK="$(vals success | awk '{ s += $1 } END { print s }')"
  ROWS+="| $c | $([ "$rate" = 0 ] && echo "flat out" || echo "$rate/s") | $OK of $((RUNS * REPS)) | $(col p50) | $(col p99) | $(col max) | $(col subs) | $(col rps) | $(rng rps) |"$'\n'
done

STAMP="$(date -u +%Y%m%d-%H%M%S)"
REPORT="$ROOT/bench/results/jobs-$STAMP.md"
{
  echo "# Job service: $RUNS small runs"
  echo
  echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(grep MemTotal /proc/meminfo | awk '{print $2, $3}') memory"
  echo "- server: \`tarn server\` (8 HTTP workers, 16 job workers, job-state writes group-committed), SQLite metadata store (WAL, synchronous=FULL), on the same machine as the clients"
  echo "- runs: \`SELECT 1\` as the administrator (its one row kept as a Parquet result, as every run's last query), application max_concurrent_runs 50; each client submits on one kept-alive HTTP connection, as fast as it is answered or at the offered rate"
  echo "- latency: submit -> RUNNING is each run's queued_duration_ms (server clock: started_at - created_at)"
  echo "- each row: medians over $REPS repetitions, each on a fresh server and data directory"
  echo
  echo "| clients | offered | succeeded | submit->RUNNING p50 ms | p99 ms | max ms | submissions/s | runs/s | runs/s range |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s' "$ROWS"
  echo
  echo "Targets (issue 12): p50 <= 20 ms, >= 200 runs/s on 2 cores."
} >"$REPORT"
echo "wrote $REPORT" >&2
cat "$REPORT"
