#!/usr/bin/env bash
# Benchmark of governance and audit, written to bench/results/governance-<date>.md:
#  1. governed Tarn vs raw DuckDB on the same files (scan, aggregate, join over the
#     demo lake) with row filters and masks active: `tarn_bench compare --governed`;
#  2. audit-trail throughput in process: 50 threads appending with group commit vs
#     the same threads taking turns (one fsync per event): `tarn_bench audit`;
#  3. audit under HTTP load: wrk with CLIENTS connections running a governed
#     statement as an analyst for SECONDS; every statement is one audit event,
#     durable before its response. The trail is verified afterwards.
# Usage: bench/governance.sh [ROWS] [RUNS] [CLIENTS] [SECONDS]
#        (default 10000000 rows, 7 runs, 50 clients, 20 s)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROWS="${1:-10000000}"
RUNS="${2:-7}"
CLIENTS="${3:-50}"
SECS="${4:-20}"
BUILD="${TARN_BUILD_DIR:-$ROOT/build}"
source "$ROOT/bench/lib.sh"
"$ROOT/scripts/setup"
bench_need_wrk
"$ROOT/scripts/build" tarn tarn_bench
TARN="$BUILD/tarn"
DATA="$ROOT/bench/data-$ROWS"
if [ ! -d "$DATA/lake/raw/sales/orders" ]; then
  "$TARN" demo-data --data-dir "$DATA" --rows "$ROWS" --replace
fi
mkdir -p "$ROOT/bench/results"
STAMP="$(date -u +%Y%m%d-%H%M%S)"
REPORT="$ROOT/bench/results/governance-$ROWS-$STAMP.md"
LAKE_MD="$(mktemp)"

echo "== 1. governed vs raw DuckDB ($ROWS rows, $RUNS runs)" >&2
"$BUILD/tarn_bench" compare --governed --data-dir "$DATA" --runs "$RUNS" --report "$LAKE_MD"

echo "== 2. audit trail in process (50 threads)" >&2
AUDIT="$("$BUILD/tarn_bench" audit --threads 50 --events 20000)"

echo "== 3. audit under HTTP load ($CLIENTS clients, $SECS s)" >&2
PORT=$((20000 + RANDOM % 20000))
trap 'kill "${SERVER:-}" 2>/dev/null || true; wait "${SERVER:-}" 2>/dev/null || true; rm -f "$LAKE_MD"' EXIT
bench_server_config "$DATA/bench-server.toml"
: >"$DATA/bench-server.log"
bench_start_server "$TARN" "$DATA" "$PORT" "$DATA/bench-server.toml" "$DATA/bench-server.log"
# bench_user was created by step 1 (tarn_bench compare --governed).
TARN_TOKEN="$(bench_token "$PORT" bench_user bench-password-1)"
export TARN_TOKEN
export TARN_BENCH_SQL="SELECT category, count(*) FROM sales.products GROUP BY ALL"
wrk -t2 -c8 -d2s -s "$ROOT/bench/load.lua" "http://127.0.0.1:$PORT" >/dev/null  # warm-up
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
BEFORE="$("$TARN" audit verify --json -d "$DATA" | grep -o '"events":[0-9]*' | cut -d: -f2)"
bench_start_server "$TARN" "$DATA" "$PORT" "$DATA/bench-server.toml" "$DATA/bench-server.log"
LOADED="$(wrk -t2 -c"$CLIENTS" -d"${SECS}s" --timeout 10s -s "$ROOT/bench/load.lua" "http://127.0.0.1:$PORT")"
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
VERIFY="$("$TARN" audit verify --json -d "$DATA")"
AFTER="$(grep -o '"events":[0-9]*' <<<"$VERIFY" | cut -d: -f2)"
EVENTS=$((AFTER - BEFORE))
EPS="$(awk -v e="$EVENTS" -v s="$SECS" 'BEGIN { printf "%.0f", e / s }')"

{
  cat "$LAKE_MD"
  cat <<EOT

The raw side with the row filters and masks alone is the natural hand-written query:
the baseline the target applies to. The "with cell guards" column is raw DuckDB with
every cell guarded by its row filter, as Tarn's governed scans are bound (so that a
predicate the optimizer pushes below the row filter never sees a hidden row's
value); before optimizing, Tarn drops those guards, or pushes safe comparisons past
them, where that is provably safe (docs/GOVERNANCE.md, enforcement step 2), which is
why Tarn can beat that column.

# Audit throughput

- in process, $(pick "$AUDIT" audit_threads) threads appending 20000 events: **$(pick "$AUDIT" grouped_events_per_s) events/s**
  with group commit vs $(pick "$AUDIT" serial_events_per_s) events/s with one fsync per event (ratio $(pick "$AUDIT" ratio)), each
  durable (fdatasync) before Append returns; the trail verified after each run
- over HTTP: \`tarn server\` (8 workers), wrk with $CLIENTS connections for $SECS s, each request
  \`POST /v1/statements\` as bench_user (group bench_analysts; a small governed table, so
  that the statement itself is cheap and the audit path shows): \`$TARN_BENCH_SQL\`

| clients | requests | requests/s | failed | p50 ms | p90 ms | p99 ms | audit events written | events/s |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|
| $CLIENTS | $(pick "$LOADED" requests) | $(pick "$LOADED" rps) | $(pick "$LOADED" non_2xx_or_socket_errors) | $(pick "$LOADED" p50_ms) | $(pick "$LOADED" p90_ms) | $(pick "$LOADED" p99_ms) | $EVENTS | $EPS |

\`tarn audit verify\` after the run: \`$VERIFY\`
EOT
} >"$REPORT"
cat "$REPORT"
