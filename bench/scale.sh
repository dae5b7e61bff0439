#!/usr/bin/env bash
# Benchmark of partitioned runs on the local test Slurm cluster (scripts/lib/slurm.sh:
# 3 slurmd's sharing this machine's cores), against the same runs in the server, on
# the same tables. All nodes share the machine's cores, so this measures the cost of
# splitting (map shuffle, per-task start, merge), not a speed-up; docs/scale-out.md
# turns the per-stage figures into a model for real nodes.
#
# Workloads (ROWS rows per side; the right side drops 1 row in 1009, changes the
# amount of 1 in 97):
#   recon  a reconciliation job: compare bench.lhs and bench.rhs on id (amount,
#          posted), write the breaks to a table, the summary as the result;
#   sql    a SQL job: per account, the joined rows and their amount difference
#          (JOIN on acct and id, GROUP BY acct), partition_by acct.
# Each on three applications: `local` (in the server), `single` (slurm, buckets 1:
# one task on one node) and `split` (slurm, BUCKETS buckets, max_nodes 3); RUNS
# repetitions, medians reported. Needs root (slurmd) like scripts/test.
# Writes bench/results/scale-ROWS-<date>.md: wall per run (server-measured), the
# ratio to local, per-stage times and bytes shuffled from the split run's log, and
# whether the results are identical.
# Usage: bench/scale.sh [ROWS] [RUNS] [BUCKETS]   (default 10000000, 3, 6)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROWS="${1:-10000000}"
RUNS="${2:-3}"
BUCKETS="${3:-6}"
source "$ROOT/bench/lib.sh"
"$ROOT/scripts/setup"
"$ROOT/scripts/build" tarn
TARN="$ROOT/build/tarn"
WORK="$(mktemp -d /tmp/tarn-bench-scale.XXXXXX)"
source "$ROOT/scripts/lib/postgres.sh"
source "$ROOT/scripts/lib/slurm.sh"
cleanup() {
  kill "${SERVER:-}" 2>/dev/null || true
  wait "${SERVER:-}" 2>/dev/null || true
  slurm_stop || true
  pg_stop || true
  rm -rf "$WORK"
}
trap cleanup EXIT
pg_start >/dev/null
TARN_BIN="$TARN" slurm_start
DATA="$WORK/data"
echo "bench-admin-pw-1" | "$TARN" init -d "$DATA" --metastore "$TARN_TEST_PG_URL" --admin-password-stdin >/dev/null
echo "== generating 2 x $ROWS rows" >&2
"$TARN" sql -d "$DATA" -q "CREATE DATABASE bench;
  CREATE TABLE bench.lhs AS SELECT i AS id, i % 100000 AS acct, CAST(round(random() * 1000, 2) AS DECIMAL(12, 2)) AS amount,
    DATE '2026-01-01' + CAST(i % 365 AS INTEGER) AS posted FROM range($ROWS) t(i);
  CREATE TABLE bench.rhs AS SELECT id, acct, CASE WHEN id % 97 = 0 THEN amount + 1 ELSE amount END AS amount, posted
    FROM bench.lhs WHERE id % 1009 <> 0;
  CREATE DATABASE out" >/dev/null
INPUT_BYTES="$(du -sb "$DATA/lake" | cut -f1)"
port=$((20000 + RANDOM % 20000))
bench_server_config "$WORK/server.toml"
bench_start_server "$TARN" "$DATA" "$port" "$WORK/server.toml" "$WORK/server.log"
TOKEN="$(bench_token "$port" admin bench-admin-pw-1)"
URL="http://127.0.0.1:$port"
api() { curl -sS --fail-with-body -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
api -d '{"name": "local"}' "$URL/v1/applications" >/dev/null
api -d '{"name": "single", "executor": {"type": "slurm", "partition": "debug", "max_nodes": 3, "buckets": 1}}' \
  "$URL/v1/applications" >/dev/null
api -d "{\"name\": \"split\", \"executor\": {\"type\": \"slurm\", \"partition\": \"debug\", \"max_nodes\": 3, \"buckets\": $BUCKETS}}" \
  "$URL/v1/applications" >/dev/null

# The job body of workload $1 writing its breaks to out.$2.
job() {
  python3 - "$1" "$2" <<'PY'
import json, sys
w, target = sys.argv[1:]
if w == "recon":
    pipeline = ("inputs:\n  lhs: {table: bench.lhs}\n  rhs: {table: bench.rhs}\nsteps:\n"
                "  - name: rec\n    compare: {left: lhs, right: rhs, keys: [id], columns: {amount: {tolerance: 0.001}, posted: {}}}\n"
                "  - name: save\n    output: {input: rec.breaks, table: out.%s}\nsummary: rec.summary\n" % target)
    job = {"type": "reconciliation", "pipeline": pipeline}
else:
    job = {"type": "sql",
           "script": "SELECT l.acct, count(*) AS n, sum(r.amount - l.amount) AS diff FROM bench.lhs l JOIN bench.rhs r "
                     "ON l.acct = r.acct AND l.id = r.id GROUP BY l.acct ORDER BY l.acct",
           "partition_by": {"bench.lhs": "acct", "bench.rhs": "acct"}}
print(json.dumps({"job": job, "capacity": {"memory": "2GB", "threads": 2}}))
PY
}

# Runs workload $1 on application $2 (breaks into out.$3); prints "seconds result-checksum".
run_one() {
  local id state
  id="$(curl -sS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$(job "$1" "$3")" \
    "$URL/v1/applications/$2/jobruns" | python3 -c 'import json,sys; b = json.load(sys.stdin); print(b.get("job_run_id") or sys.exit("bench: " + json.dumps(b)))')"
  while :; do
    state="$(api "$URL/v1/applications/$2/jobruns/$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')"
    case "$state" in SUCCESS | FAILED | CANCELLED) break ;; esac
    sleep 0.2
  done
  [ "$state" = SUCCESS ] || { echo "bench: run $id on $2 ended $state" >&2; api "$URL/v1/applications/$2/jobruns/$id" >&2; exit 1; }
  api "$URL/v1/applications/$2/jobruns/$id/logs" >"$WORK/log-$1-$2.json"
  local secs sum
  secs="$(api "$URL/v1/applications/$2/jobruns/$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total_execution_duration_seconds"])')"
  sum="$(api "$URL/v1/applications/$2/jobruns/$id/result?format=csv&limit=100000" | sha256sum | cut -c1-16)"
  echo "$secs $sum"
}

declare -A WALL SUM
for w in recon sql; do
  for app in local single split; do
    for r in $(seq "$RUNS"); do
      echo "== $w on $app, run $r of $RUNS" >&2
      read -r secs sum < <(run_one "$w" "$app" "${w}_${app}_$r")
      WALL[$w.$app]+="$secs"$'\n'
      SUM[$w.$app]="$sum"
    done
  done
done

# The split run's stage lines and shuffle, from its log.
stages() {
  python3 - "$WORK/log-$1-split.json" <<'PY'
import json, re, sys
lines = json.load(open(sys.argv[1]))["lines"]
for l in lines:
    m = l["message"]
    if re.search(r"(map|buckets|merge): \d+ tasks? ended|shuffled|split by key", m):
        print("- " + m)
PY
}

breaks_equal() {
  "$TARN" sql -d "$DATA" -q --format csv "SELECT count(*) FROM ((SELECT * FROM out.recon_split_1 EXCEPT ALL SELECT * FROM out.recon_local_1) UNION ALL (SELECT * FROM out.recon_local_1 EXCEPT ALL SELECT * FROM out.recon_split_1))" | tail -1
}

STAMP="$(date +%Y%m%d-%H%M%S)"
REPORT="$ROOT/bench/results/scale-$ROWS-$STAMP.md"
mkdir -p "$ROOT/bench/results"
{
  echo "# Partitioned runs on the local Slurm cluster, $ROWS rows per side"
  echo
  echo "- machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -r)"
  echo "- cluster: scripts/lib/slurm.sh, 3 slurmd's (n1-n3) on this one machine; PostgreSQL metadata store"
  echo "- data: bench.lhs $ROWS rows, bench.rhs the same less 1 in 1009 rows, 1 in 97 amounts changed; lake $((INPUT_BYTES / 1048576)) MiB"
  echo "- runs: $RUNS per cell, median of the server's total_execution_duration_seconds; split = $BUCKETS buckets, 2 threads and 2 GiB per task"
  echo
  echo "| workload | local (server) s | single task on a node s | split s | split / local | result identical |"
  echo "|---|---|---|---|---|---|"
  for w in recon sql; do
    l="$(printf '%s' "${WALL[$w.local]}" | median)"
    s="$(printf '%s' "${WALL[$w.single]}" | median)"
    p="$(printf '%s' "${WALL[$w.split]}" | median)"
    same=no
    [ "${SUM[$w.local]}" = "${SUM[$w.split]}" ] && [ "${SUM[$w.local]}" = "${SUM[$w.single]}" ] && same=yes
    echo "| $w | $l | $s | $p | $(awk -v a="$p" -v b="$l" 'BEGIN { printf "%.2f", a / b }') | $same |"
  done
  echo
  echo "Reconciliation breaks tables, split vs local, rows differing: $(breaks_equal)"
  echo
  for w in recon sql; do
    echo "## Stages of the last split $w run"
    echo
    stages "$w"
    echo
  done
} >"$REPORT"
cat "$REPORT"
echo "bench: wrote $REPORT" >&2
