#!/usr/bin/env bash
# Benchmark of the Livy endpoint, written to bench/results/livy-<date>.md: the round
# trip of a trivial statement (SELECT 1) as a notebook client makes it — POST
# /sessions/{id}/statements, then GET the statement until it is available (polled
# every 2 ms) — with S sessions at once (each its own client thread, its own
# kept-alive connection, one statement at a time), for each S in SESSIONS. Baseline in
# the same run: the same statement through Tarn's own synchronous POST /v1/statements
# by the same clients. Reports p50/p99 round trip and statements/s, medians over REPS
# repetitions, each on a fresh server.
# Usage: bench/livy.sh [STATEMENTS_PER_SESSION] [SESSIONS] [REPS]   (default 200, "1 20", 3)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${1:-200}"
SESSIONS="${2:-1 20}"
REPS="${3:-3}"
BUILD="${TARN_BUILD_DIR:-$ROOT/build}"
source "$ROOT/bench/lib.sh"
"$ROOT/scripts/setup"
"$ROOT/scripts/build" tarn
TARN="$BUILD/tarn"
WORK="$(mktemp -d)"
trap 'kill "${SERVER:-}" 2>/dev/null || true; wait "${SERVER:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

# Runs N statements in each of $1 sessions (mode livy or direct) on a fresh server;
# prints one line of figures.
run_once() {
  local sessions="$1" mode="$2" port=$((20000 + RANDOM % 20000))
  rm -rf "$WORK/data"
  echo "bench-admin-pw-1" | "$TARN" init -d "$WORK/data" --admin-password-stdin >/dev/null 2>&1
  bench_server_config "$WORK/server.toml"
  bench_start_server "$TARN" "$WORK/data" "$port" "$WORK/server.toml" "$WORK/server.log"
  local token
  token="$(bench_token "$port" admin bench-admin-pw-1)"
  python3 - "$port" "$token" "$sessions" "$N" "$mode" <<'PY'
import http.client, json, sys, threading, time
port, token, sessions, n, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
times, bad = [], []
lock = threading.Lock()
def client():
    c = http.client.HTTPConnection("127.0.0.1", int(port))
    def call(method, path, body=None):
        c.request(method, path, body, headers)
        r = c.getresponse()
        data = r.read()
        return r.status, json.loads(data) if data else None
    sid = None
    if mode == "livy":
        status, s = call("POST", "/sessions", json.dumps({"kind": "sql"}))
        if status != 201:
            bad.append(status); return
        sid = s["id"]
    mine = []
    for _ in range(n):
        t = time.perf_counter()
        if mode == "livy":
            status, st = call("POST", "/sessions/%d/statements" % sid, json.dumps({"code": "SELECT 1"}))
            while st["state"] not in ("available", "cancelled"):
                time.sleep(0.002)
                status, st = call("GET", "/sessions/%d/statements/%d" % (sid, st["id"]))
            ok = st["output"]["status"] == "ok"
        else:
            status, r = call("POST", "/v1/statements", json.dumps({"sql": "SELECT 1"}))
            ok = status == 200
        mine.append((time.perf_counter() - t) * 1000)
        if not ok:
            bad.append(status)
    with lock:
        times.extend(mine)
threads = [threading.Thread(target=client) for _ in range(sessions)]
t0 = time.perf_counter()
for t in threads: t.start()
for t in threads: t.join()
span = time.perf_counter() - t0
if bad:
    sys.exit("%d statements failed: %s" % (len(bad), sorted(set(bad))[:5]))
times.sort()
pct = lambda p: times[min(len(times) - 1, int(p * len(times)))]
print(f"n={len(times)} p50={pct(0.5):.2f} p99={pct(0.99):.2f} sps={len(times)/span:.1f}")
PY
  kill "$SERVER"
  wait "$SERVER" 2>/dev/null || true
}


ROWS=""
for s in $SESSIONS; do
  for mode in livy direct; do
    LINES=""
    for r in $(seq "$REPS"); do
      echo "== $s sessions x $N statements, $mode, repetition $r of $REPS" >&2
      LINE="$(run_once "$s" "$mode")"
      echo "   $LINE" >&2
      LINES+="$LINE"$'\n'
    done
    col() { while read -r l; do if [ -n "$l" ]; then pick "$l" "$1"; fi; done <<<"$LINES" | median; }
    declare "P50_$mode=$(col p50)"
    ROWS+="| $s | $([ "$mode" = livy ] && echo "Livy: POST statement + poll" || echo "baseline: POST /v1/statements") | $(col n) | $(col p50) | $(col p99) | $(col sps) |"$'\n'
  done
  ROWS+="| $s | ratio Livy / baseline (p50) | | $(awk -v a="$P50_livy" -v b="$P50_direct" 'BEGIN { printf "%.2f", a / b }') | | |"$'\n'
done

STAMP="$(date -u +%Y%m%d-%H%M%S)"
REPORT="$ROOT/bench/results/livy-$STAMP.md"
{
  echo "# Livy endpoint: trivial-statement round trip"
  echo
  echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(grep MemTotal /proc/meminfo | awk '{print $2, $3}') memory"
  echo "- server: \`tarn server\` (8 HTTP workers, 8 Livy workers), SQLite metadata store, on the same machine as the clients"
  echo "- statement: \`SELECT 1\` as the administrator in a session of kind sql; round trip = POST /sessions/{id}/statements, then GET the statement every 2 ms until it is available (a notebook client polls; sparkmagic waits 200 ms before its first poll, so this measures the service, not sparkmagic)"
  echo "- baseline: the same statement, same clients, through \`POST /v1/statements\` (synchronous)"
  echo "- each row: medians over $REPS repetitions of $N statements per session, each on a fresh server"
  echo
  echo "| sessions | path | statements | p50 ms | p99 ms | statements/s |"
  echo "|---:|---|---:|---:|---:|---:|"
  printf '%s' "$ROWS"
} >"$REPORT"
echo "wrote $REPORT" >&2
cat "$REPORT"
