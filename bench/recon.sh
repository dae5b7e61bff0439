#!/usr/bin/env bash
# Benchmark: the reconciliation reference workload, hand-written DuckDB SQL against
# the same work as a Tarn pipeline (bench/recon/pipeline.yaml), on the same files.
# Usage: bench/recon.sh [ROWS] [RUNS]   (default 53000000 rows per file, 1 run each)
#   RECON_REFERENCE=DIR   where gen.sql and recon.sql are (default ../shared/bench/recon-reference)
# Generates the two Parquet files once (bench/data-recon-ROWS/lake/bench/), registers
# them as external tables, then per run: the reference (duckdb_run, 2 threads), the
# pipeline (tarn recon run, 2 threads), and the pipeline under a 4 GiB memory limit.
# Writes bench/results/recon-ROWS-<date>.md: wall and peak RSS (GNU time), the
# pipeline's per-statement times (from the audit trail), and per-output checksums.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/bench/lib.sh"
ROWS="${1:-53000000}"
RUNS="${2:-1}"
REF="${RECON_REFERENCE:-$ROOT/../shared/bench/recon-reference}"
[ -f "$REF/gen.sql" ] && [ -f "$REF/recon.sql" ] || { echo "bench: no gen.sql/recon.sql in $REF" >&2; exit 2; }
"$ROOT/scripts/setup"
command -v /usr/bin/time >/dev/null || { echo "bench: needs GNU time (apt-get install time)" >&2; exit 2; }
"$ROOT/scripts/build" tarn duckdb_run
TARN="$ROOT/build/tarn"
RUN="$ROOT/build/duckdb_run"
DATA="$ROOT/bench/data-recon-$ROWS"
IN="$DATA/lake/bench"
WORK="$DATA/work"
mkdir -p "$WORK" "$ROOT/bench/results"

if [ ! -f "$IN/statement/statement.parquet" ]; then
  echo "== generating 2 x $ROWS rows" >&2
  [ -d "$DATA/lake" ] || "$TARN" init -d "$DATA" >/dev/null
  bench_gen_recon "$RUN" "$REF" "$IN" "$ROWS" "$WORK"
  "$TARN" sql -d "$DATA" -q "$BENCH_RECON_TABLES"
fi

# The reference, its DATA replaced; then, in the same session, the checksum of each
# table it kept (not part of its timed statements: they follow statement 33).
{
  sed -e "s#'DATA/ledger.parquet'#'$IN/ledger/ledger.parquet'#g; s#'DATA/statement.parquet'#'$IN/statement/statement.parquet'#g" \
    -e "s#'DATA/breaks.parquet'#'$WORK/breaks.parquet'#; s#'DATA/summary.csv'#'$WORK/summary.csv'#" "$REF/recon.sql"
  echo "SELECT 'end of the reference';"
  for t in $BENCH_RECON_OUTS; do echo "SELECT '$t', count(*), $(bench_sums "$t");"; done
  echo "SELECT 'breaks', count(*), $(bench_sums breaks "(SELECT * EXCLUDE (shard) FROM matched WHERE status <> 'MATCHED')");"
} >"$WORK/recon.sql"


# Runs a command under GNU time, its -v report into $1 (time_wall, time_rss_gib read it).
timed() {
  local report="$1"
  shift
  /usr/bin/time -v -o "$report" "$@"
}

REF_WALL="" REF_RSS="" P_WALL="" P_RSS="" L_WALL="" L_RSS=""
for r in $(seq "$RUNS"); do
  echo "== run $r of $RUNS: reference" >&2
  timed "$WORK/ref.time" "$RUN" --threads 2 --temp-dir "$WORK/duckdb-tmp" "$WORK/recon.sql" >"$WORK/ref.out" 2>"$WORK/ref.err"
  REF_WALL+="$(awk '/end of the reference/ { exit } /^statement/ { s += $3 } END { print s }' "$WORK/ref.err")"$'\n'
  REF_RSS+="$(time_rss_gib "$WORK/ref.time")"$'\n'
  echo "== run $r of $RUNS: pipeline, memory limit 4GiB" >&2
  timed "$WORK/l.time" "$TARN" recon run "$ROOT/bench/recon/pipeline.yaml" -d "$DATA" --threads 2 --memory-limit 4GiB >"$WORK/l.out" 2>"$WORK/l.err"
  L_WALL+="$(time_wall "$WORK/l.time")"$'\n'
  L_RSS+="$(time_rss_gib "$WORK/l.time")"$'\n'
  echo "== run $r of $RUNS: pipeline" >&2
  timed "$WORK/p.time" "$TARN" recon run "$ROOT/bench/recon/pipeline.yaml" -d "$DATA" --threads 2 >"$WORK/p.out" 2>"$WORK/p.err"
  P_WALL+="$(time_wall "$WORK/p.time")"$'\n'
  P_RSS+="$(time_rss_gib "$WORK/p.time")"$'\n'
done
bench_recon_checksums "$TARN" "$DATA" >"$WORK/p.sums"
grep -E "^($(echo "$BENCH_RECON_OUTS breaks" | tr ' ' '|'))\|" "$WORK/ref.out" >"$WORK/ref.sums" || true

RW="$(printf '%s' "$REF_WALL" | median)"; PW="$(printf '%s' "$P_WALL" | median)"; LW="$(printf '%s' "$L_WALL" | median)"
STEPS="$("$TARN" sql -d "$DATA" -q --format csv "SELECT seq, round(duration_ms / 1000, 2) AS s, rows,
  regexp_replace(substr(statement, 1, 80), '\s+', ' ', 'g') AS statement FROM system.audit
  WHERE event = 'statement' AND request_id = (SELECT request_id FROM system.audit WHERE client = 'cli'
    AND statement LIKE '%materialize matched%' ORDER BY seq DESC LIMIT 1)
  AND statement NOT LIKE 'SELECT * FROM (%' ORDER BY seq" | tail -n +2)"
STAMP="$(date -u +%Y%m%d-%H%M%S)"
REPORT="$ROOT/bench/results/recon-$ROWS-$STAMP.md"
{
  echo "# Reconciliation: the reference workload, hand-written DuckDB vs a Tarn pipeline"
  echo
  echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(grep MemTotal /proc/meminfo | awk '{print $2, $3}') memory"
  echo "- data: two Parquet files of $ROWS rows each (gen.sql), the ledger and the statement as external tables"
  echo "- reference: recon.sql in one DuckDB $("$TARN" version | sed 's/.*DuckDB \(.*\))/\1/') session (duckdb_run, 2 threads), its statements timed (not the checksums after them)"
  echo "- pipeline: bench/recon/pipeline.yaml, \`tarn recon run\` on the data directory (2 threads): compile as the administrator (schema probes), then every statement governed and audited; every result written as a managed table"
  echo "- runs: $RUNS; figures are medians; wall and peak RSS from GNU time"
  echo
  echo "| | wall s | peak RSS GiB |"
  echo "|---|---:|---:|"
  echo "| reference (its statements) | $RW | $(printf '%s' "$REF_RSS" | median) |"
  echo "| pipeline | $PW | $(printf '%s' "$P_RSS" | median) |"
  echo "| pipeline, memory limit 4GiB | $LW | $(printf '%s' "$L_RSS" | median) |"
  echo
  echo "Reference / pipeline wall: $(awk -v a="$RW" -v b="$PW" 'BEGIN { printf "%.2f", a / b }')×."
  echo
  echo "## Pipeline statements (the last run without a memory limit, from system.audit)"
  echo
  echo "| seq | s | rows | statement |"
  echo "|---:|---:|---:|---|"
  echo "$STEPS" | awk -F, '{ st = $4; for (i = 5; i <= NF; i++) st = st "," $i; print "| " $1 " | " $2 " | " $3 " | `" st "` |" }'
  echo
  echo "## Outputs: rows and checksum (sum of row hashes) on each side"
  echo
  echo "| output | reference rows | pipeline rows | same checksum |"
  echo "|---|---:|---:|---|"
  for t in $BENCH_RECON_OUTS breaks; do
    a="$(grep "^$t|" "$WORK/ref.sums" | head -1)"; b="$(grep "^$t|" "$WORK/p.sums" | head -1)"
    echo "| $t | $(echo "$a" | cut -d'|' -f2) | $(echo "$b" | cut -d'|' -f2) | $([ -n "$a" ] && [ "$(echo "$a" | cut -d'|' -f2-)" = "$(echo "$b" | cut -d'|' -f2-)" ] && echo yes || echo no) |"
  done
  echo
  echo "Checksums: per column, the sum of the hashes of its values as text (numbers as DOUBLE, so that a HUGEINT sum and its DECIMAL(38,0) copy in the lake compare equal); every column except dedup's amount (which of the rows tied on posted is kept is not defined) and the reference's shard in breaks (a hash bucket no formula computes). top_breaks keeps 1000 rows of a sort with ties at the cut, so which tied rows are kept is not defined either: only its sort column abs_diff_usd."
} >"$REPORT"
echo "wrote $REPORT" >&2
cat "$REPORT"
