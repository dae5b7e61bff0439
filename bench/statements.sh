#!/usr/bin/env bash
# The fixed cost of a statement: statements/s and p50/p99 latency of three small
# statements, 50 connections held by wrk (2 threads) against `tarn server` (8 workers,
# SQLite metadata, loopback), run as a non-admin analyst:
#   select1   SELECT 1
#   inline    a GROUP BY over an inline 1,000-row table (range)
#   governed  the same GROUP BY over a 1,000-row catalog table the analyst was granted
# With --baseline BIN the same runs are made against another tarn binary (e.g. a build
# of the previous commit) in the same session, alternating, on an identical data
# directory. DuckDB alone (bench/engine_floor.cpp: in process, 8 threads, the same
# statements) is measured in the same run as the ceiling. Writes
# bench/results/statements-<date>.md.
# Usage: bench/statements.sh [--baseline BIN] [SECONDS]   (default 10 s per run, 3 rounds)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASELINE=""
if [ "${1:-}" = "--baseline" ]; then BASELINE="$2"; shift 2; fi
SECS="${1:-10}"
ROUNDS="${TARN_BENCH_ROUNDS:-3}"
source "$ROOT/bench/lib.sh"
"$ROOT/scripts/setup"
bench_need_wrk
"$ROOT/scripts/build" tarn engine_floor
TARN="${TARN_BUILD_DIR:-$ROOT/build}/tarn"
WORK="$(mktemp -d /tmp/tarn-statements.XXXXXX)"
SERVERS=()
trap 'for s in "${SERVERS[@]}"; do kill -CONT "$s" 2>/dev/null; kill "$s" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

INLINE="SELECT k, count(*) AS n, sum(v) AS s FROM (SELECT i % 10 AS k, i * 1.5 AS v FROM range(1000) t(i)) GROUP BY ALL"
GOVERNED="SELECT k, count(*) AS n, sum(v) AS s FROM d.small GROUP BY ALL"

# Starts BIN on a fresh data directory with the table and the analyst; prints "PORT TOKEN".
start() {
  local bin="$1" name="$2" data="$WORK/$2" port=$((20000 + RANDOM % 20000))
  printf 'bench-admin-pw\n' | "$bin" init -d "$data" --admin-password-stdin >/dev/null 2>&1
  "$bin" sql -q -d "$data" "CREATE DATABASE d; CREATE TABLE d.small AS SELECT i % 10 AS k, i * 1.5 AS v FROM range(1000) t(i)"
  printf 'bench-ana-pw-1\n' | "$bin" user add ana -d "$data" --password-stdin >/dev/null
  "$bin" sql -q -d "$data" "GRANT SELECT ON d.small TO USER ana"
  bench_server_config "$data/tarn.toml"
  bench_start_server "$bin" "$data" "$port" "$data/tarn.toml" "$data/server.log" >&2
  echo "$port $(bench_token "$port" ana bench-ana-pw-1) $SERVER"
}

# One wrk run; prints "rps p50 p99 errors".
run() {
  local port="$1" token="$2" sql="$3"
  local out
  out="$(TARN_TOKEN="$token" TARN_BENCH_SQL="$sql" wrk -t2 -c50 -d"${SECS}s" --timeout 10s \
    -s "$ROOT/bench/load.lua" "http://127.0.0.1:$port")"
  echo "$(pick "$out" rps) $(pick "$out" p50_ms) $(pick "$out" p99_ms) $(pick "$out" non_2xx_or_socket_errors)"
}


# start runs in a subshell (process substitution): the trap learns the pids here.
read -r PORT TOKEN PID < <(start "$TARN" current)
SERVERS+=("$PID")
SIDES=(current)
declare -A PORTS=([current]="$PORT") TOKENS=([current]="$TOKEN") PIDS=([current]="$PID")
if [ -n "$BASELINE" ]; then
  read -r PORT TOKEN PID < <(start "$BASELINE" baseline)
  SERVERS+=("$PID")
  SIDES+=(baseline)
  PORTS[baseline]="$PORT"; TOKENS[baseline]="$TOKEN"; PIDS[baseline]="$PID"
fi

# Only one server runs at a time: the other is stopped (SIGSTOP) while it is measured.
declare -A RESULTS=()
for side in "${SIDES[@]}"; do
  for q in select1 inline governed; do
    sql="SELECT 1"; [ "$q" = inline ] && sql="$INLINE"; [ "$q" = governed ] && sql="$GOVERNED"
    TARN_TOKEN="${TOKENS[$side]}" TARN_BENCH_SQL="$sql" wrk -t2 -c16 -d2s -s "$ROOT/bench/load.lua" \
      "http://127.0.0.1:${PORTS[$side]}" >/dev/null  # warm up
  done
done
for round in $(seq "$ROUNDS"); do
  for side in "${SIDES[@]}"; do
    for other in "${SIDES[@]}"; do [ "$other" != "$side" ] && kill -STOP "${PIDS[$other]}"; done
    for q in select1 inline governed; do
      sql="SELECT 1"; [ "$q" = inline ] && sql="$INLINE"; [ "$q" = governed ] && sql="$GOVERNED"
      RESULTS["$side $q $round"]="$(run "${PORTS[$side]}" "${TOKENS[$side]}" "$sql")"
      echo "round $round $side $q: ${RESULTS["$side $q $round"]}" >&2
    done
    for other in "${SIDES[@]}"; do [ "$other" != "$side" ] && kill -CONT "${PIDS[$other]}"; done
  done
done

# The ceiling: DuckDB alone, in process, 8 client threads (as the server's 8 workers),
# the same statements, the governed one over a Parquet file of the same rows.
FLOOR="${TARN_BUILD_DIR:-$ROOT/build}/engine_floor"
SMALL="$WORK/small.parquet"
declare -A ENGINE=()
for q in select1 inline governed; do
  sql="SELECT 1"; [ "$q" = inline ] && sql="$INLINE"
  [ "$q" = governed ] && sql="SELECT k, count(*) AS n, sum(v) AS s FROM '$SMALL' GROUP BY ALL"
  for other in "${SIDES[@]}"; do kill -STOP "${PIDS[$other]}"; done
  out="$("$FLOOR" "$SECS" 8 "$sql" "COPY (SELECT i % 10 AS k, i * 1.5 AS v FROM range(1000) t(i)) TO '$SMALL'")"
  for other in "${SIDES[@]}"; do kill -CONT "${PIDS[$other]}"; done
  ENGINE[$q]="$(pick "$out" rps)"
  echo "engine alone $q: ${ENGINE[$q]}" >&2
done

field() {  # field SIDE QUERY N -> median over rounds of field N (1 rps, 2 p50, 3 p99, 4 errors)
  for round in $(seq "$ROUNDS"); do awk -v n="$3" '{print $n}' <<<"${RESULTS["$1 $2 $round"]}"; done | median
}
mkdir -p "$ROOT/bench/results"
REPORT="$ROOT/bench/results/statements-$(date -u +%Y%m%d-%H%M%S).md"
{
  echo "# The fixed cost of a statement"
  echo
  echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; wrk and the server share the cores"
  echo "- server: \`tarn server\`, 8 workers, SQLite metadata, loopback HTTP, keep-alive; the caller is a non-admin analyst"
  echo "- client: wrk, 2 threads, 50 connections, ${SECS} s per run, $ROUNDS rounds (medians shown); current: $(git -C "$ROOT" rev-parse --short HEAD)${BASELINE:+; baseline: $BASELINE}"
  echo "- inline: \`$INLINE\`"
  echo "- governed: \`$GOVERNED\` (d.small holds the same 1,000 rows; the analyst holds SELECT on it)"
  echo
  echo "| build | statement | statements/s | p50 ms | p99 ms | errors |"
  echo "|---|---|---:|---:|---:|---:|"
  for side in "${SIDES[@]}"; do
    for q in select1 inline governed; do
      echo "| $side | $q | $(field "$side" "$q" 1) | $(field "$side" "$q" 2) | $(field "$side" "$q" 3) | $(field "$side" "$q" 4) |"
    done
  done
  for q in select1 inline governed; do
    echo "| DuckDB alone (in process, 8 threads, no HTTP/auth/policy/audit) | $q | ${ENGINE[$q]} | | | |"
  done
  echo
  for q in select1 inline governed; do
    c="$(field current "$q" 1)"
    echo "- $q: current / DuckDB alone = $(awk -v c="$c" -v e="${ENGINE[$q]}" 'BEGIN {printf "%.2f", c / e}')"
  done
  for side in "${SIDES[@]}"; do
    g="$(field "$side" governed 1)"; i="$(field "$side" inline 1)"
    echo "- $side: governed / inline = $(awk -v g="$g" -v i="$i" 'BEGIN {printf "%.2f", g / i}')"
  done
  if [ -n "$BASELINE" ]; then
    for q in select1 inline governed; do
      c="$(field current "$q" 1)"; b="$(field baseline "$q" 1)"
      echo "- $q: current / baseline = $(awk -v c="$c" -v b="$b" 'BEGIN {printf "%.2f", c / b}')"
    done
  fi
} >"$REPORT"
cat "$REPORT"
