#!/usr/bin/env bash
# Benchmark: data validation at scale (docs/validation.md). Two Parquet tables of ROWS
# records, 8 columns, keyed by id, with 0.1% planted differences (dropped, extra,
# changed amounts, changed statuses, NULLs); `tarn validate` against the same diff
# written by hand as one DuckDB statement on the same files, in the same run.
# Usage: bench/validate.sh [ROWS] [RUNS]   (default 100000000 rows per side, 1 run)
#   MEMORY=8GiB   the engine's memory limit for both
# Writes bench/results/validate-ROWS-<date>.md: wall, peak RSS (GNU time), rows/s, the
# run's per-statement times (from the audit trail), and whether both found the same.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/bench/lib.sh"
ROWS="${1:-100000000}"
RUNS="${2:-1}"
MEMORY="${MEMORY:-8GiB}"
"$ROOT/scripts/setup"
command -v /usr/bin/time >/dev/null || { echo "bench: needs GNU time (apt-get install time)" >&2; exit 2; }
"$ROOT/scripts/build" tarn duckdb_run
TARN="$ROOT/build/tarn"
RUN="$ROOT/build/duckdb_run"
DATA="$ROOT/bench/data-validate-$ROWS"
IN="$DATA/lake/bench"
WORK="$DATA/work"
mkdir -p "$WORK" "$ROOT/bench/results"

if [ ! -f "$IN/dst/dst.parquet" ]; then
  echo "== generating 2 x $ROWS rows" >&2
  [ -d "$DATA/lake" ] || "$TARN" init -d "$DATA" >/dev/null
  bench_gen_validate "$RUN" "$IN" "$ROWS" "$WORK"
  "$TARN" sql -d "$DATA" -q "$BENCH_VALIDATE_TABLES"
fi

bench_validate_spec bench >"$WORK/spec.yaml"
# The issue's measured work (counts, the full record diff, per-column mismatch figures):
# the same spec without the profiles and the duplicate-key count.
{ cat "$WORK/spec.yaml"; printf 'profile: false\nkey_uniqueness: false\n'; } | sed 's/^name: bench/name: bench_lean/' >"$WORK/lean.yaml"

# The hand-written diff: one statement over the same files, the same figures
# (missing, extra, changed, per column unequal, NULL on one side, largest difference).
cols="customer qty day status score note"
per=""
for c in $cols; do
  per+=", count(*) FILTER (WHERE s.id IS NOT NULL AND t.id IS NOT NULL AND s.$c IS DISTINCT FROM t.$c) AS ${c}_unequal"
  per+=", count(*) FILTER (WHERE s.id IS NOT NULL AND t.id IS NOT NULL AND (s.$c IS NULL) <> (t.$c IS NULL)) AS ${c}_null_diff"
done
anydiff="abs(s.amount - t.amount) > 0.001"
for c in $cols; do anydiff+=" OR s.$c IS DISTINCT FROM t.$c"; done
cat >"$WORK/hand.sql" <<EOT
SET memory_limit = '$MEMORY';
SELECT count(*) FILTER (WHERE t.id IS NULL) AS missing, count(*) FILTER (WHERE s.id IS NULL) AS extra,
  count(*) FILTER (WHERE s.id IS NOT NULL AND t.id IS NOT NULL AND ($anydiff)) AS changed,
  count(*) FILTER (WHERE s.id IS NOT NULL AND t.id IS NOT NULL AND abs(s.amount - t.amount) > 0.001) AS amount_unequal,
  max(abs(s.amount - t.amount)) AS amount_max_abs_diff $per
FROM read_parquet('$IN/src/src.parquet') s FULL JOIN read_parquet('$IN/dst/dst.parquet') t ON s.id = t.id;
EOT

H_WALL="" H_RSS="" V_WALL="" V_RSS="" L_WALL="" L_RSS=""
for r in $(seq "$RUNS"); do
  echo "== run $r of $RUNS: hand-written DuckDB" >&2
  /usr/bin/time -v -o "$WORK/h.time" "$RUN" --threads 2 --temp-dir "$WORK/duckdb-tmp" "$WORK/hand.sql" >"$WORK/h.out" 2>"$WORK/h.err"
  H_WALL+="$(time_wall "$WORK/h.time")"$'\n'
  H_RSS+="$(time_rss_gib "$WORK/h.time")"$'\n'
  echo "== run $r of $RUNS: tarn validate" >&2
  /usr/bin/time -v -o "$WORK/v.time" "$TARN" validate "$WORK/spec.yaml" -d "$DATA" --threads 2 --memory-limit "$MEMORY" \
    --out "$WORK" --json >"$WORK/v.out" 2>"$WORK/v.err" || true
  V_WALL+="$(time_wall "$WORK/v.time")"$'\n'
  V_RSS+="$(time_rss_gib "$WORK/v.time")"$'\n'
  echo "== run $r of $RUNS: tarn validate, profile: false, key_uniqueness: false" >&2
  /usr/bin/time -v -o "$WORK/l.time" "$TARN" validate "$WORK/lean.yaml" -d "$DATA" --threads 2 --memory-limit "$MEMORY" \
    --out "$WORK/lean" --json >"$WORK/l.out" 2>"$WORK/l.err" || true
  L_WALL+="$(time_wall "$WORK/l.time")"$'\n'
  L_RSS+="$(time_rss_gib "$WORK/l.time")"$'\n'
done
LW="$(printf '%s' "$L_WALL" | median)"
HW="$(printf '%s' "$H_WALL" | median)"; VW="$(printf '%s' "$V_WALL" | median)"
FIG="$(python3 -c "
import json; m = json.load(open('$WORK/metrics.json'))
c = m['columns']
print(m['missing'], m['extra'], m['changed'], c['amount']['unequal'], c['status']['unequal'], c['note']['unequal'], c['note']['null_diff'])")"
HAND="$(tail -n 1 "$WORK/h.out")"
STEPS="$("$TARN" sql -d "$DATA" -q --format csv "SELECT seq, round(duration_ms / 1000, 2) AS s,
  regexp_replace(substr(statement, 1, 90), '\s+', ' ', 'g') AS statement FROM system.audit
  WHERE event = 'statement' AND request_id = (SELECT request_id FROM system.audit WHERE client = 'cli'
    AND statement LIKE 'CREATE TEMP TABLE v_diff%' ORDER BY seq DESC LIMIT 1 OFFSET 1) ORDER BY seq" | tail -n +2)"
STAMP="$(date -u +%Y%m%d-%H%M%S)"
REPORT="$ROOT/bench/results/validate-$ROWS-$STAMP.md"
{
  echo "# Validation: $ROWS x $ROWS records, 8 columns, 0.1% planted differences"
  echo
  echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(grep MemTotal /proc/meminfo | awk '{print $2, $3}') memory"
  echo "- data: two Parquet files (bench/validate.sh), external tables bench.src and bench.dst"
  echo "- hand-written: one DuckDB $("$TARN" version | sed 's/.*DuckDB \(.*\))/\1/') statement (a FULL JOIN on id with per-column counts), duckdb_run, 2 threads, memory_limit $MEMORY"
  echo "- tarn: \`tarn validate\` (2 threads, --memory-limit $MEMORY): plan as the administrator, then counts, profiles of both sides (nulls, approximate distinct, min, max, sum, mean, lengths), duplicate keys, bucket checksums, the diff of differing buckets, the mismatch table, samples, Griffin's measure; governed and audited; metrics.json and report.html"
  echo "- runs: $RUNS; figures are medians; wall and peak RSS from GNU time"
  echo
  echo "| | wall s | peak RSS GiB | source rows/s |"
  echo "|---|---:|---:|---:|"
  echo "| hand-written diff | $HW | $(printf '%s' "$H_RSS" | median) | $(awk -v n="$ROWS" -v s="$HW" 'BEGIN { printf "%.0f", n / s }') |"
  echo "| tarn validate (the spec: profiles, duplicate keys, diff, Griffin) | $VW | $(printf '%s' "$V_RSS" | median) | $(awk -v n="$ROWS" -v s="$VW" 'BEGIN { printf "%.0f", n / s }') |"
  echo "| tarn validate, profile: false, key_uniqueness: false (counts, diff, per-column figures, Griffin) | $LW | $(printf '%s' "$L_RSS" | median) | $(awk -v n="$ROWS" -v s="$LW" 'BEGIN { printf "%.0f", n / s }') |"
  echo
  echo "tarn / hand-written wall: $(awk -v a="$VW" -v b="$HW" 'BEGIN { printf "%.2f", a / b }')× (the spec), $(awk -v a="$LW" -v b="$HW" 'BEGIN { printf "%.2f", a / b }')× (lean)."
  echo
  echo "Found (missing extra changed amount.unequal status.unequal note.unequal note.null_diff): tarn \`$FIG\`; hand-written (missing|extra|changed|amount_unequal|...) \`$HAND\`."
  echo
  echo "## tarn validate's statements, the full spec (from system.audit)"
  echo
  echo "| seq | s | statement |"
  echo "|---:|---:|---|"
  echo "$STEPS" | awk -F, '{ st = $3; for (i = 4; i <= NF; i++) st = st "," $i; print "| " $1 " | " $2 " | `" st "` |" }'
} >"$REPORT"
echo "wrote $REPORT" >&2
cat "$REPORT"
