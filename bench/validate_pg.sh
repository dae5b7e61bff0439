#!/usr/bin/env bash
# Benchmark: validation across systems (docs/validation.md, "Across systems"). A table
# of ROWS records in PostgreSQL (a throwaway server, scripts/lib/postgres.sh) against
# its lake copy in which 100 records differ (40 changed amounts, 30 changed statuses,
# 30 dropped). `tarn validate` compares segment checksums in both systems and reads
# only differing segments' records; the baseline transfers the whole table (psql
# \copy to CSV) and then diffs it by hand in DuckDB against the lake file.
# Usage: bench/validate_pg.sh [ROWS] [RUNS]   (default 10000000 records, 1 run)
# Writes bench/results/validate-pg-ROWS-<date>.md: wall, bytes read from PostgreSQL,
# records transferred, bisection levels, and whether both found the same.
set -euo pipefail
umask 077
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/bench/lib.sh"
source "$ROOT/scripts/lib/postgres.sh"
ROWS="${1:-10000000}"
RUNS="${2:-1}"
"$ROOT/scripts/setup"
command -v /usr/bin/time >/dev/null || { echo "bench: needs GNU time (apt-get install time)" >&2; exit 2; }
"$ROOT/scripts/build" tarn duckdb_run
TARN="$ROOT/build/tarn"
RUN="$ROOT/build/duckdb_run"
DATA="$ROOT/bench/data-validate-pg-$ROWS"
WORK="$DATA/work"
IN="$DATA/lake/bench/people"
mkdir -p "$WORK" "$IN" "$ROOT/bench/results"
pg_start
trap pg_stop EXIT
PSQL=(psql "$TARN_TEST_PG_URL" -v ON_ERROR_STOP=1 -qAt)

# The same records in both systems: arithmetic only, so both compute equal values.
echo "== loading $ROWS records into PostgreSQL" >&2
"${PSQL[@]}" <<EOT
CREATE TABLE people (id bigint, customer text, amount numeric(12,2), qty int, day date, status text, score float8, note text);
INSERT INTO people SELECT i, 'C' || lpad(((i * 7919) % 1000000)::text, 7, '0'), ((i * 37) % 1000000) / 100.0,
  (i * 13) % 50, date '2020-01-01' + ((i * 7) % 1500)::int, (ARRAY['open', 'paid', 'shipped', 'closed'])[1 + i % 4],
  ((i * 31) % 1000000) / 1000.0, 'note ' || ((i * 17) % 100000) FROM generate_series(1::bigint, $ROWS) i;
VACUUM ANALYZE people;
EOT
if [ ! -f "$IN/people.parquet" ]; then
  echo "== writing the lake copy" >&2
  [ -f "$DATA/metadata.sqlite" ] || "$TARN" init -d "$DATA" >/dev/null
  A=$((ROWS / 40)); S=$((ROWS / 30))
  cat >"$WORK/gen.sql" <<EOT
COPY (SELECT i AS id, 'C' || lpad(CAST((i * 7919) % 1000000 AS VARCHAR), 7, '0') AS customer,
  CAST(CAST((i * 37) % 1000000 AS DECIMAL(18,0)) / 100 + CASE WHEN i % $A = 1 THEN 1 ELSE 0 END AS DECIMAL(12,2)) AS amount,
  CAST((i * 13) % 50 AS INTEGER) AS qty, DATE '2020-01-01' + CAST((i * 7) % 1500 AS INTEGER) AS day,
  CASE WHEN i % $S = 2 THEN 'disputed' ELSE ['open', 'paid', 'shipped', 'closed'][1 + i % 4] END AS status,
  ((i * 31) % 1000000) / 1000.0 AS score, 'note ' || CAST((i * 17) % 100000 AS VARCHAR) AS note
  FROM range(1, $ROWS + 1) t(i) WHERE i % $S <> 3) TO '$IN/people.parquet' (FORMAT parquet);
EOT
  "$RUN" --threads 2 "$WORK/gen.sql"
  "$TARN" sql -d "$DATA" -q "CREATE DATABASE bench; CREATE EXTERNAL TABLE bench.people LOCATION 'bench/people' FORMAT parquet"
fi
cat >"$WORK/tarn.toml" <<EOT
[connections.crm]
url = "$TARN_TEST_PG_URL"
users = ["admin"]
EOT
cat >"$WORK/spec.yaml" <<EOT
name: crm
source: {connection: crm, table: public.people}
target: bench.people
keys: [id]
profile: false
key_uniqueness: false
EOT
# The full transfer: every record as CSV, then the same figures by hand in DuckDB.
cols="customer amount qty day status score note"
per="" anydiff="FALSE"
for c in $cols; do
  per+=", count(*) FILTER (WHERE s.id IS NOT NULL AND t.id IS NOT NULL AND s.$c IS DISTINCT FROM t.$c) AS ${c}_unequal"
  anydiff+=" OR s.$c IS DISTINCT FROM t.$c"
done
cat >"$WORK/hand.sql" <<EOT
SELECT count(*) FILTER (WHERE t.id IS NULL) AS missing, count(*) FILTER (WHERE s.id IS NULL) AS extra,
  count(*) FILTER (WHERE s.id IS NOT NULL AND t.id IS NOT NULL AND ($anydiff)) AS changed $per
FROM read_csv('$WORK/full.csv', header = false, columns = {'id': 'BIGINT', 'customer': 'VARCHAR', 'amount': 'DECIMAL(12,2)',
  'qty': 'INTEGER', 'day': 'DATE', 'status': 'VARCHAR', 'score': 'DOUBLE', 'note': 'VARCHAR'}) s
FULL JOIN read_parquet('$IN/people.parquet') t ON s.id = t.id;
EOT

V_WALL="" C_WALL="" H_WALL="" V_RSS=""
for r in $(seq "$RUNS"); do
  echo "== run $r of $RUNS: tarn validate (segment checksums)" >&2
  /usr/bin/time -v -o "$WORK/v.time" "$TARN" validate "$WORK/spec.yaml" -d "$DATA" --config "$WORK/tarn.toml" \
    --threads 2 --out "$WORK" --json >"$WORK/v.out" 2>"$WORK/v.err" || true
  V_WALL+="$(time_wall "$WORK/v.time")"$'\n'
  V_RSS+="$(time_rss_gib "$WORK/v.time")"$'\n'
  echo "== run $r of $RUNS: full transfer (psql \\copy) and the hand-written diff" >&2
  rm -f "$WORK/full.csv"
  /usr/bin/time -v -o "$WORK/c.time" "${PSQL[@]}" -c "\\copy (SELECT * FROM people) TO '$WORK/full.csv' WITH (FORMAT csv)"
  C_WALL+="$(time_wall "$WORK/c.time")"$'\n'
  /usr/bin/time -v -o "$WORK/h.time" "$RUN" --threads 2 "$WORK/hand.sql" >"$WORK/h.out" 2>"$WORK/h.err"
  H_WALL+="$(time_wall "$WORK/h.time")"$'\n'
done
VW="$(printf '%s' "$V_WALL" | median)"; CW="$(printf '%s' "$C_WALL" | median)"; HW="$(printf '%s' "$H_WALL" | median)"
FULL_BYTES="$(stat -c %s "$WORK/full.csv")"
read -r FIG BYTES CHECK XFER LEVELS <<<"$(python3 -c "
import json; m = json.load(open('$WORK/metrics.json')); x = m['external']
lv = ' / '.join('%d digits: %d compared, %d differ, %.1f s in PostgreSQL, %.1f s in the lake' % (l['prefix_digits'], l['segments_compared'], l['segments_differing'], l['external_seconds'], l['lake_seconds']) for l in x['levels'])
lv += ' / transfer of the differing segments: %.1f s' % x['transfer_seconds']
print('%d,%d,%d' % (m['missing'], m['extra'], m['changed']), x['bytes_transferred'], x['checksum_bytes'], x['rows_transferred'], lv.replace(' ', '_'))")"
HAND="$(tail -n 1 "$WORK/h.out")"
STAMP="$(date -u +%Y%m%d-%H%M%S)"
REPORT="$ROOT/bench/results/validate-pg-$ROWS-$STAMP.md"
{
  echo "# Validation across systems: $ROWS records in PostgreSQL against their lake copy, 100 differing"
  echo
  echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(grep MemTotal /proc/meminfo | awk '{print $2, $3}') memory"
  echo "- PostgreSQL 15 on 127.0.0.1 (scripts/lib/postgres.sh defaults), table public.people, 8 columns, no index; the lake copy one Parquet file (external table bench.people)"
  echo "- tarn: \`tarn validate\` with the source in PostgreSQL (profile: false, key_uniqueness: false), 2 threads: counts, segment checksums in both systems with bisection, then the diff of the records of differing segments"
  echo "- full transfer: \`psql \\copy (SELECT * FROM people) TO file CSV\`, then one hand-written DuckDB statement (FULL JOIN on id, per-column counts) over the CSV and the Parquet file, duckdb_run, 2 threads"
  echo "- runs: $RUNS; figures are medians; wall from GNU time"
  echo
  echo "| | wall s | bytes read from PostgreSQL | records transferred |"
  echo "|---|---:|---:|---:|"
  echo "| tarn validate (segment checksums) | $VW | $BYTES (of which checksums $CHECK) | $XFER |"
  echo "| full transfer: psql \\copy | $CW | $FULL_BYTES (CSV) | $ROWS |"
  echo "| full transfer + hand-written diff | $(awk -v a="$CW" -v b="$HW" 'BEGIN { printf "%.2f", a + b }') | $FULL_BYTES | $ROWS |"
  echo
  echo "Bytes: full transfer / tarn = $(awk -v a="$FULL_BYTES" -v b="$BYTES" 'BEGIN { printf "%.0f", a / b }')×. Wall: (full transfer + diff) / tarn = $(awk -v a="$CW" -v b="$HW" -v c="$VW" 'BEGIN { printf "%.2f", (a + b) / c }')×. tarn peak RSS $(printf '%s' "$V_RSS" | median) GiB."
  echo
  echo "Bisection (last run): ${LEVELS//_/ }."
  echo
  echo "Over a network the full transfer also waits for its bytes: tarn's wall equals (full transfer + diff) when the link carries $(awk -v b="$FULL_BYTES" -v v="$VW" -v h="$HW" 'BEGIN { printf "%.0f", b * 8 / (v - h) / 1e6 }') Mbit/s (CSV bytes / (tarn wall - diff wall)); on slower links tarn is faster."
  echo
  echo "Found (missing,extra,changed): tarn \`$FIG\`; hand-written (missing|extra|changed|per column...) \`$HAND\`."
} >"$REPORT"
echo "wrote $REPORT" >&2
cat "$REPORT"
