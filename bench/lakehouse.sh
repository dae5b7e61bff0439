#!/usr/bin/env bash
# Lakehouse tables: row changes by copy-on-write vs merge-on-read on a ROWS-row
# managed table in 10 files (default 10,000,000 rows), and OPTIMIZE's effect on scan
# time. For each write mode and each case, RUNS times on a fresh zero-copy CLONE of
# the same table (each `tarn sql` a whole process, timed from outside):
#   write   a DELETE of the case's rows, then an UPDATE of as many others (wall s)
#   read    a full aggregate over the table after them (wall s); the files it has
#   merge-on-read only: OPTIMIZE (wall s), then the aggregate again
# Cases: 1 % and 10 % of rows spread over every file (id % 100, id % 10), and 1 %
# clustered in one file (the lowest ids). Then OPTIMIZE on the same rows appended in
# 100 small files: the full aggregate and a selective one (k = 7) before, after
# OPTIMIZE, and after OPTIMIZE ORDER BY k (min/max statistics let the scan skip).
# Schema evolution: on a clone, the full and the selective aggregate before and after
# RENAME COLUMN s, ADD COLUMN and ALTER COLUMN k TYPE DECIMAL(20,0) (no file rewritten:
# each file is read through the projection of its schema version). Baseline, same run: the aggregate by DuckDB
# alone (bench/duckdb_run) over the table's original files, and by Tarn over the
# unchanged table. Medians are quoted. Writes bench/results/lakehouse-<rows>-<date>.md.
# Usage: bench/lakehouse.sh [ROWS] [RUNS]    (default 10000000, 3)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROWS="${1:-10000000}"
RUNS="${2:-3}"
BUILD="${TARN_BUILD_DIR:-$ROOT/build}"
source "$ROOT/bench/lib.sh"
"$ROOT/scripts/setup"
"$ROOT/scripts/build" tarn duckdb_run
TARN="$BUILD/tarn"
DATA="$(mktemp -d /tmp/tarn-lakehouse.XXXXXX)"
trap 'rm -rf "$DATA"' EXIT
mkdir -p "$ROOT/bench/results"
REPORT="$ROOT/bench/results/lakehouse-$ROWS-$(date -u +%Y%m%d-%H%M%S).md"
sql() { "$TARN" sql -q -d "$DATA" "$@"; }
# Wall seconds of one `tarn sql` run.
timed() {
  local t0 t1
  t0=$(date +%s.%N)
  sql "$1" >/dev/null
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

printf 'bench-admin-pw\n' | "$TARN" init -d "$DATA" --admin-password-stdin >/dev/null 2>&1
PER=$((ROWS / 10))
echo "== a table of $ROWS rows in 10 files" >&2
sql "CREATE DATABASE b"
sql "CREATE TABLE b.base AS SELECT range AS id, range % 1000 AS k, (range * 7919 % 100003) / 100.0 AS x, 'customer-' || (range % 100000) AS s FROM range(0, $PER)"
for i in $(seq 1 9); do
  sql "INSERT INTO b.base SELECT range, range % 1000, (range * 7919 % 100003) / 100.0, 'customer-' || (range % 100000) FROM range($((i * PER)), $(((i + 1) * PER)))"
done
BASE_FILES="$(find "$DATA" -path '*warehouse*' -name '*.parquet' | sort)"
BYTES="$(du -cb $BASE_FILES | tail -1 | cut -f1)"
READ="SELECT count(*), sum(x), count(DISTINCT k) FROM b.r"
LIST="$(sed "s/.*/'&'/" <<<"$BASE_FILES" | paste -sd, -)"
echo "SELECT count(*), sum(x), count(DISTINCT k) FROM read_parquet([$LIST]);" >"$DATA/baseline.sql"

echo "== the same rows in 100 small files" >&2
sql "CREATE TABLE b.small AS SELECT * FROM b.base WHERE id < $((ROWS / 100))"
for i in $(seq 1 99); do
  sql "INSERT INTO b.small SELECT * FROM b.base WHERE id >= $((i * ROWS / 100)) AND id < $(((i + 1) * ROWS / 100))"
done
POINT="SELECT count(*), sum(x) FROM b.s WHERE k = 7"

declare -A CASE_DEL CASE_UPD
CASES=("1% spread" "10% spread" "1% clustered")
CASE_DEL["1% spread"]="id % 100 = 1"
CASE_UPD["1% spread"]="id % 100 = 2"
CASE_DEL["10% spread"]="id % 10 = 1"
CASE_UPD["10% spread"]="id % 10 = 2"
CASE_DEL["1% clustered"]="id < $((ROWS / 100))"
CASE_UPD["1% clustered"]="id >= $((ROWS / 100)) AND id < $((ROWS / 50))"

declare -A RES
files_of() { sql --format csv "SHOW SNAPSHOTS b.r" | tail -1 | cut -d, -f5; }
for run in $(seq 1 "$RUNS"); do
  echo "== run $run/$RUNS" >&2
  sql "CREATE TABLE b.r CLONE b.base"
  RES["baseline duckdb"]+="$( { /usr/bin/time -f %e "$BUILD/duckdb_run" "$DATA/baseline.sql" >/dev/null; } 2>&1 | tail -1) "
  RES["baseline tarn"]+="$(timed "$READ") "
  sql "DROP TABLE b.r"
  sql "CREATE TABLE b.s CLONE b.small"
  RES["small|files"]+="$(sql --format csv "SHOW SNAPSHOTS b.s" | tail -1 | cut -d, -f5) "
  RES["small|read"]+="$(timed "${READ//b.r/b.s}") "
  RES["small|point"]+="$(timed "$POINT") "
  RES["small|optimize"]+="$(timed "OPTIMIZE b.s") "
  RES["small|files optimized"]+="$(sql --format csv "SHOW SNAPSHOTS b.s" | tail -1 | cut -d, -f5) "
  RES["small|read optimized"]+="$(timed "${READ//b.r/b.s}") "
  RES["small|point optimized"]+="$(timed "$POINT") "
  RES["small|optimize sorted"]+="$(timed "OPTIMIZE b.s ORDER BY k") "
  RES["small|point sorted"]+="$(timed "$POINT") "
  sql "DROP TABLE b.s"
  sql "CREATE TABLE b.e CLONE b.base"
  RES["evolved|read before"]+="$(timed "${READ//b.r/b.e}") "
  RES["evolved|point before"]+="$(timed "${POINT//b.s/b.e}") "
  RES["evolved|alter"]+="$(timed "ALTER TABLE b.e RENAME COLUMN s TO name") "
  sql "ALTER TABLE b.e ADD COLUMN note VARCHAR"
  RES["evolved|read renamed"]+="$(timed "${READ//b.r/b.e}") "
  RES["evolved|point renamed"]+="$(timed "${POINT//b.s/b.e}") "
  sql "ALTER TABLE b.e ALTER COLUMN k TYPE DECIMAL(20,0)"
  RES["evolved|read"]+="$(timed "${READ//b.r/b.e}") "
  RES["evolved|point"]+="$(timed "${POINT//b.s/b.e}") "
  sql "DROP TABLE b.e"
  for c in "${CASES[@]}"; do
    for mode in copy-on-write merge-on-read; do
      sql "CREATE TABLE b.r CLONE b.base"
      sql "ALTER TABLE b.r SET TBLPROPERTIES ('write_mode' = '$mode')"
      RES["$c|$mode|delete"]+="$(timed "DELETE FROM b.r WHERE ${CASE_DEL[$c]}") "
      RES["$c|$mode|update"]+="$(timed "UPDATE b.r SET x = x + 1 WHERE ${CASE_UPD[$c]}") "
      RES["$c|$mode|read"]+="$(timed "$READ") "
      RES["$c|$mode|files"]+="$(files_of) "
      if [ "$mode" = merge-on-read ]; then
        RES["$c|$mode|optimize"]+="$(timed "OPTIMIZE b.r") "
        RES["$c|$mode|read optimized"]+="$(timed "$READ") "
        RES["$c|$mode|files optimized"]+="$(files_of) "
      fi
      sql "DROP TABLE b.r"
      "$TARN" gc -d "$DATA" --older-than 0 >/dev/null 2>&1
    done
  done
done

med() { tr ' ' '\n' <<<"${RES[$1]}" | grep -v '^$' | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
BASE_READ="$(med "baseline tarn")"
{
  echo "# Lakehouse tables: copy-on-write vs merge-on-read"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), $(lscpu | awk -F': *' '/Model name/ { print $2 }')."
  echo "Table: $ROWS rows, 10 Parquet files, $((BYTES / 1048576)) MiB (id, k, x, s). $RUNS runs each on a fresh zero-copy clone; medians of whole \`tarn sql\` processes (wall seconds)."
  echo "Each case DELETEs its rows, then UPDATEs as many other rows (SET x = x + 1), then reads \`$READ\`."
  echo
  echo "Baseline read: DuckDB alone on the original files $(med "baseline duckdb") s; Tarn on the unchanged table $BASE_READ s."
  echo
  echo "| case | mode | DELETE s | UPDATE s | files after | read after s | read / unchanged | OPTIMIZE s | read after OPTIMIZE s | files after OPTIMIZE |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for c in "${CASES[@]}"; do
    for mode in copy-on-write merge-on-read; do
      k="$c|$mode"
      r="$(med "$k|read")"
      if [ "$mode" = merge-on-read ]; then
        opt="$(med "$k|optimize") | $(med "$k|read optimized") | $(med "$k|files optimized")"
      else
        opt="- | - | -"
      fi
      echo "| $c | $mode | $(med "$k|delete") | $(med "$k|update") | $(med "$k|files") | $r | $(ratio "$r" "$BASE_READ") | $opt |"
    done
  done
  echo
  echo "## OPTIMIZE on $ROWS rows appended in $(med "small|files") files"
  echo
  echo "| | files | full aggregate s | k = 7 s |"
  echo "| --- | ---: | ---: | ---: |"
  echo "| before | $(med "small|files") | $(med "small|read") | $(med "small|point") |"
  echo "| after OPTIMIZE ($(med "small|optimize") s) | $(med "small|files optimized") | $(med "small|read optimized") | $(med "small|point optimized") |"
  echo "| after OPTIMIZE ORDER BY k ($(med "small|optimize sorted") s) | | | $(med "small|point sorted") |"
  echo
  echo "## Schema evolution on the $ROWS-row table (no file rewritten)"
  echo
  echo "RENAME COLUMN s, ADD COLUMN note, ALTER COLUMN k TYPE DECIMAL(20,0); each ALTER is one metadata commit (the RENAME: $(med "evolved|alter") s, a whole \`tarn sql\` process)."
  echo
  echo "| | full aggregate s | k = 7 s |"
  echo "| --- | ---: | ---: |"
  echo "| before | $(med "evolved|read before") | $(med "evolved|point before") |"
  for step in "renamed|after RENAME and ADD COLUMN (names mapped, note NULL)" "|and after widening k (every old file's k cast)"; do
    k="${step%%|*}"
    k="evolved|read${k:+ $k}"
    p="${k/read/point}"
    echo "| ${step#*|} | $(med "$k") ($(ratio "$(med "$k")" "$(med "evolved|read before")")x) | $(med "$p") ($(ratio "$(med "$p")" "$(med "evolved|point before")")x) |"
  done
} >"$REPORT"
cat "$REPORT"
echo "bench: wrote $REPORT" >&2
