#!/usr/bin/env bash
# Benchmark: tarn sql vs raw DuckDB on the same files (scan, aggregate, join).
# Usage: bench/lake.sh [ROWS] [RUNS]   (default 10000000 rows, 7 runs)
# Builds the demo lake at that size once (in bench/data-ROWS), then writes
# bench/results/lake-ROWS-<date>.md with medians, ratios and the machine.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROWS="${1:-10000000}"
RUNS="${2:-7}"
"$ROOT/scripts/setup"
"$ROOT/scripts/build" tarn tarn_bench
DATA="$ROOT/bench/data-$ROWS"
if [ ! -d "$DATA/lake/raw/sales/orders" ]; then
  "$ROOT/build/tarn" demo-data --data-dir "$DATA" --rows "$ROWS" --replace
fi
mkdir -p "$ROOT/bench/results"
REPORT="$ROOT/bench/results/lake-$ROWS-$(date -u +%Y%m%d-%H%M%S).md"
"$ROOT/build/tarn_bench" compare --data-dir "$DATA" --runs "$RUNS" --report "$REPORT"
cat "$REPORT"
