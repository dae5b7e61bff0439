#!/usr/bin/env bash
# Benchmark of partitioned runs on the local test Slurm cluster (scripts/lib/slurm.sh:
# 3 slurmd's sharing this machine's cores), against the same runs in the server, on
# the same tables. All nodes share the machine's cores, so this measures the cost of
# splitting (map shuffle, per-task start, merge), not a speed-up; docs/scale-out.md
# turns the per-stage figures into a model for real nodes.
#
# Workloads:
#   reference  the reference reconciliation (bench/recon/pipeline.yaml, the files of
#              ../shared/bench/recon-reference/gen.sql, RECON_ROWS rows each) as a
#              reconciliation job: its join chain and anti join split by txn_id;
#   validate   a validation job of VALIDATE_ROWS x VALIDATE_ROWS records (the files and
#              spec of bench/validate.sh): its diff split by id.
# Each on three applications: `local` (in the server), `single` (slurm, buckets 1:
# every statement one task on one node) and `split` (slurm, BUCKETS buckets,
# max_nodes 3); RUNS repetitions, medians reported. Needs root (slurmd) like scripts/test.
# Writes bench/results/scale-<date>.md: wall per run (server-measured), the ratio to
# local, per-stage times and bytes shuffled from the split run's log, and whether the
# results are identical (the reference's output checksums, the validation's figures).
# Usage: bench/scale.sh [RECON_ROWS] [VALIDATE_ROWS] [RUNS] [BUCKETS]
#        (default 53000000, 100000000, 1, 6)
#   WORKLOADS="reference validate"   which to run
#   TASK_MEMORY=6GB                   each run's (and each task's) memory
#   FILES=6                           each input table's data files (1: the generated file itself)
#   RECON_REFERENCE=DIR               where gen.sql is (default ../shared/bench/recon-reference)
#   KEEP_LOGS=DIR                     keep each run's log (JSON) there
#   SHUFFLE=nodes                     the shuffle on the nodes' disks, served by their file
#                                     services (`tarn node serve`); shared: on the shared scratch
# The generated Parquet files are kept in bench/data-scale/ for the next run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RECON_ROWS="${1:-53000000}"
VALIDATE_ROWS="${2:-100000000}"
RUNS="${3:-1}"
BUCKETS="${4:-6}"
WORKLOADS="${WORKLOADS:-reference validate}"
TASK_MEMORY="${TASK_MEMORY:-6GB}"
FILES="${FILES:-6}"
SHUFFLE="${SHUFFLE:-nodes}"
case "$SHUFFLE" in nodes | shared) ;; *) echo "bench: SHUFFLE is nodes or shared, not '$SHUFFLE'" >&2; exit 2 ;; esac
REF="${RECON_REFERENCE:-$ROOT/../shared/bench/recon-reference}"
source "$ROOT/bench/lib.sh"
"$ROOT/scripts/setup"
"$ROOT/scripts/build" tarn duckdb_run
TARN="$ROOT/build/tarn"
RUN="$ROOT/build/duckdb_run"
CACHE="$ROOT/bench/data-scale"
WORK="$(mktemp -d /tmp/tarn-bench-scale.XXXXXX)"
source "$ROOT/scripts/lib/postgres.sh"
source "$ROOT/scripts/lib/slurm.sh"
cleanup() {
  kill "${SERVER:-}" 2>/dev/null || true
  wait "${SERVER:-}" 2>/dev/null || true
  slurm_stop || true
  pg_stop || true
  if [ -n "${KEEP_LOGS:-}" ]; then mkdir -p "$KEEP_LOGS" && cp "$WORK"/log-*.json "$KEEP_LOGS"/ 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# The Parquet files, generated once into the cache, linked into the lake.
pg_start >/dev/null
TARN_BIN="$TARN" slurm_start
DATA="$WORK/data"
echo "bench-admin-pw-1" | "$TARN" init -d "$DATA" --metastore "$TARN_TEST_PG_URL" --admin-password-stdin >/dev/null
IN="$DATA/lake/bench"
# Each table as FILES files (as a lake table written in several appends is; made once
# from the generated file, kept in the cache), linked into the lake.
link_in() {  # link_in CACHE_DIR TABLE...
  local src="$1" t out f
  shift
  for t in "$@"; do
    out="$src/$t"
    if [ "$FILES" -gt 1 ]; then
      out="$src-files$FILES/$t"
      if [ ! -f "$out/.done" ]; then
        rm -rf "$out" && mkdir -p "$out"
        echo "COPY (SELECT * FROM '$src/$t/$t.parquet') TO '$out' (FORMAT parquet, FILE_SIZE_BYTES" \
          "$(($(stat -c %s "$src/$t/$t.parquet") / FILES + 1)), OVERWRITE_OR_IGNORE true);" >"$WORK/split.sql"
        "$RUN" --threads 2 "$WORK/split.sql" >/dev/null
        touch "$out/.done"
      fi
    fi
    mkdir -p "$IN/$t"
    for f in "$out"/*.parquet; do ln "$f" "$IN/$t/" 2>/dev/null || cp "$f" "$IN/$t/"; done
  done
}
for w in $WORKLOADS; do
  case "$w" in
    reference)
      c="$CACHE/recon-$RECON_ROWS"
      if [ ! -f "$c/statement/statement.parquet" ]; then
        [ -f "$REF/gen.sql" ] || { echo "bench: no gen.sql in $REF" >&2; exit 2; }
        echo "== generating the reference's 2 x $RECON_ROWS rows" >&2
        mkdir -p "$c"
        bench_gen_recon "$RUN" "$REF" "$c" "$RECON_ROWS" "$WORK"
      fi
      link_in "$c" ledger statement
      "$TARN" sql -d "$DATA" -q "$BENCH_RECON_TABLES" >/dev/null
      ;;
    validate)
      c="$CACHE/validate-$VALIDATE_ROWS"
      if [ ! -f "$c/dst/dst.parquet" ]; then
        echo "== generating the validation's 2 x $VALIDATE_ROWS rows" >&2
        mkdir -p "$c"
        bench_gen_validate "$RUN" "$c" "$VALIDATE_ROWS" "$WORK"
      fi
      link_in "$c" src dst
      "$TARN" sql -d "$DATA" -q "$BENCH_VALIDATE_TABLES; CREATE DATABASE IF NOT EXISTS quality" >/dev/null
      ;;
    *) echo "bench: no workload '$w' (reference, validate)" >&2; exit 2 ;;
  esac
done
port=$((20000 + RANDOM % 20000))
bench_server_config "$WORK/server.toml"
if [ "$SHUFFLE" = nodes ]; then printf '[slurm]\nnode_scratch = "%s"\n' "$TARN_TEST_NODE_SCRATCH" >>"$WORK/server.toml"; fi
bench_start_server "$TARN" "$DATA" "$port" "$WORK/server.toml" "$WORK/server.log"
TOKEN="$(bench_token "$port" admin bench-admin-pw-1)"
URL="http://127.0.0.1:$port"
api() { curl -sS --fail-with-body -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
api -d '{"name": "local"}' "$URL/v1/applications" >/dev/null
api -d '{"name": "single", "executor": {"type": "slurm", "partition": "debug", "max_nodes": 3, "buckets": 1}}' \
  "$URL/v1/applications" >/dev/null
api -d "{\"name\": \"split\", \"executor\": {\"type\": \"slurm\", \"partition\": \"debug\", \"max_nodes\": 3, \"buckets\": $BUCKETS}}" \
  "$URL/v1/applications" >/dev/null

# The job body of workload $1 on application $2.
job() {
  local body
  case "$1" in
    reference) body="$(python3 -c 'import json,sys; print(json.dumps({"type": "reconciliation", "pipeline": open(sys.argv[1]).read()}))' "$ROOT/bench/recon/pipeline.yaml")" ;;
    validate) body="$(bench_validate_spec "v_$2" | python3 -c 'import json,sys; print(json.dumps({"type": "validation", "spec": sys.stdin.read()}))')" ;;
  esac
  echo "{\"job\": $body, \"capacity\": {\"memory\": \"$TASK_MEMORY\", \"threads\": 2}}"
}

# What a run gave, to compare across applications: the reference's output checksums,
# the validation's figures (missing, extra, changed, per column).
outcome() {
  case "$1" in
    reference) bench_recon_checksums "$TARN" "$DATA" ;;
    validate)
      api "$URL/v1/applications/$2/jobruns/$3/files/metrics.json" | python3 -c '
import json, sys
m = json.load(sys.stdin)
print(json.dumps({k: m[k] for k in ("missing", "extra", "changed", "matched", "columns", "duplicate_keys", "griffin") if k in m}, sort_keys=True))' ;;
  esac
}

# Runs workload $1 on application $2; prints its seconds; its outcome into $WORK/out-$1-$2.
run_one() {
  local id state
  id="$(api -d "$(job "$1" "$2")" "$URL/v1/applications/$2/jobruns" |
    python3 -c 'import json,sys; b = json.load(sys.stdin); print(b.get("job_run_id") or sys.exit("bench: " + json.dumps(b)))')"
  while :; do
    state="$(api "$URL/v1/applications/$2/jobruns/$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')"
    case "$state" in SUCCESS | FAILED | CANCELLED) break ;; esac
    sleep 0.5
  done
  api "$URL/v1/applications/$2/jobruns/$id/logs" >"$WORK/log-$1-$2.json"
  [ "$state" = SUCCESS ] || {
    echo "bench: run $id of $1 on $2 ended $state" >&2
    python3 -c 'import json,sys; [print(l["message"]) for l in json.load(open(sys.argv[1]))["lines"][-30:]]' "$WORK/log-$1-$2.json" >&2
    exit 1
  }
  outcome "$1" "$2" "$id" >"$WORK/out-$1-$2"
  api "$URL/v1/applications/$2/jobruns/$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total_execution_duration_seconds"])'
}

declare -A WALL
for w in $WORKLOADS; do
  for app in local single split; do
    for r in $(seq "$RUNS"); do
      echo "== $w on $app, run $r of $RUNS" >&2
      WALL[$w.$app]+="$(run_one "$w" "$app")"$'\n'
    done
  done
done

# The split run's statements that were split: their stage lines and shuffle, from its log.
stages() {
  python3 - "$WORK/log-$1-split.json" <<'PY'
import json, re, sys
for l in json.load(open(sys.argv[1]))["lines"]:
    m = l["message"]
    if re.search(r"(map|buckets|merge): \d+ tasks? ended|shuffled|split by key|split into|reuse|results are its rows|computed in the|statement \d+ ended: CREATE", m):
        print("- " + m)
PY
}

# The split run's statements that were not split (one task on a node, or in the
# server), slowest first, and their share u of the local run's time: the model's u.
unsplit() {
  python3 - "$WORK/log-$1-split.json" "$2" <<'PY'
import json, re, sys
started, split, task, ended, overhead, io = {}, set(), {}, {}, [], {}
def size(text):  # "12 bytes", "3.4 MiB" (the log's units)
    n, unit = text.split()
    return float(n) * {"bytes": 1, "byte": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}[unit]
for l in json.load(open(sys.argv[1]))["lines"]:
    m = l["message"]
    if g := re.search(r": \d+ tasks? ended in (\d+) ms \(slowest task (\d+) ms\); read ([\d.]+ \w+), "
                      r"wrote ([\d.]+ \w+)(?:, fetched ([\d.]+ \w+) from other nodes)?$", m):
        overhead.append(int(g[1]) - int(g[2]))
        kind = "map" if re.match(r"statement \d+ map:", m) else "other"
        io[kind] = io.get(kind, 0) + size(g[3]) + size(g[4])
        if g[5]:
            io["fetched"] = io.get("fetched", 0) + size(g[5])
    if g := re.match(r"statement (\d+) of \d+ started: (?:-- ([^\n]*)\n)?", m):
        started[int(g[1])] = g[2] or "?"
    elif g := re.match(r"statement (\d+) (map|buckets|merge): ", m):
        split.add(int(g[1]))
    elif g := re.match(r"statement (\d+): computed in the buckets of statement", m):
        split.add(int(g[1]))
    elif g := re.match(r"statement (\d+): 1 task ended in [\d.]+ ms \(slowest task ([\d.]+) ms\)", m):
        task[int(g[1])] = float(g[2])
    elif g := re.match(r"statement (\d+) ended: .* in ([\d.]+) ms", m):
        ended[int(g[1])] = float(g[2])
# A statement on a node: its task's own time (without Slurm's scheduling); else the
# server's time for it (outputs: the server writes the lake table).
rows = sorted(((task[n], n, "a task") if n in task else (ended.get(n, 0.0), n, "the server")
               for n in started if n not in split), reverse=True)
total, local = sum(r[0] for r in rows) / 1000, float(sys.argv[2])
print(f"{len(rows)} of {len(started)} statements not split: {total:.1f} s of work, u = {total / local:.3f} of the local run's {local:.1f} s")
print()
for ms, n, where in rows[:10]:
    print(f"- statement {n} ({started[n]}): {ms / 1000:.2f} s in {where}")
overhead.sort()
if overhead:
    print()
    print(f"{len(overhead)} Slurm stages; each stage's time beyond its slowest task (submission, scheduling, "
          f"start, polling): median {overhead[len(overhead) // 2] / 1000:.2f} s, in all {sum(overhead) / 1000:.1f} s")
    print(f"bytes read and written by the tasks: map stages {io.get('map', 0) / 2**20:.0f} MiB, "
          f"the other stages {io.get('other', 0) / 2**20:.0f} MiB; fetched from other nodes "
          f"{io.get('fetched', 0) / 2**20:.0f} MiB (also in the other stages' read and written: "
          f"received, then written and read on the local disk)")
PY
}

STAMP="$(date +%Y%m%d-%H%M%S)"
REPORT="$ROOT/bench/results/scale-$STAMP.md"
mkdir -p "$ROOT/bench/results"
{
  echo "# Partitioned runs on the local Slurm cluster"
  echo
  echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -r)"
  echo "- cluster: scripts/lib/slurm.sh, 3 slurmd's (n1-n3) on this one machine; PostgreSQL metadata store"
  echo "- reference: bench/recon/pipeline.yaml over the reference's two files of $RECON_ROWS rows (ledger, statement) and fx"
  echo "- validate: bench/validate.sh's spec over two tables of $VALIDATE_ROWS records (0.1% planted differences)"
  echo "- tables: each input table as $FILES data file(s)"
  if [ "$SHUFFLE" = nodes ]; then
    echo "- shuffle: on the nodes' disks (snappy), fetched over HTTPS from each node's \`tarn node serve\`"
  else
    echo "- shuffle: on the shared scratch (zstd)"
  fi
  echo "- runs: $RUNS per cell, median of the server's total_execution_duration_seconds; 2 threads and $TASK_MEMORY per run and per task; split = $BUCKETS buckets on 3 nodes"
  echo
  echo "| workload | local (server) s | every statement a task on a node s | split s | single / local | split / local | results identical |"
  echo "|---|---:|---:|---:|---:|---:|---|"
  for w in $WORKLOADS; do
    l="$(printf '%s' "${WALL[$w.local]}" | median)"
    s="$(printf '%s' "${WALL[$w.single]}" | median)"
    p="$(printf '%s' "${WALL[$w.split]}" | median)"
    same=no
    cmp -s "$WORK/out-$w-local" "$WORK/out-$w-split" && cmp -s "$WORK/out-$w-local" "$WORK/out-$w-single" && same=yes
    echo "| $w | $l | $s | $p | $(awk -v a="$s" -v b="$l" 'BEGIN { printf "%.2f", a / b }') | $(awk -v a="$p" -v b="$l" 'BEGIN { printf "%.2f", a / b }') | $same |"
  done
  echo
  echo "Identical: the reference's output tables have the same rows and per-column checksums (bench/lib.sh bench_sums: dedup and top_breaks only over the columns their ties leave defined) after each run; the validation's metrics (missing, extra, changed, matched, per-column figures, duplicate keys, Griffin's measure) are equal."
  for w in $WORKLOADS; do
    echo
    echo "## $w: the split run's split statements"
    echo
    stages "$w"
    echo
    echo "## $w: what is not split"
    echo
    unsplit "$w" "$(printf '%s' "${WALL[$w.local]}" | median)"
    if ! cmp -s "$WORK/out-$w-local" "$WORK/out-$w-split"; then
      echo
      echo "Outcomes differ, local then split:"
      echo
      echo '```'
      cat "$WORK/out-$w-local"
      echo "---"
      cat "$WORK/out-$w-split"
      echo '```'
    fi
  done
} >"$REPORT"
cat "$REPORT"
echo "bench: wrote $REPORT" >&2
