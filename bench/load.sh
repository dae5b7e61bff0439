#!/usr/bin/env bash
# Load test of the HTTP API: wrk holds CONNS connections for SECONDS running a
# trivial statement (POST /v1/statements "SELECT 1"), then a second run with 4
# connections measures unloaded latency. The server's memory (RSS) is sampled
# every 5 s. Writes bench/results/load-<date>.md.
# Usage: bench/load.sh [CONNS] [SECONDS]     (default 200 connections, 60 s)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONNS="${1:-200}"
SECS="${2:-60}"
source "$ROOT/bench/lib.sh"
"$ROOT/scripts/setup"
bench_need_wrk
"$ROOT/scripts/build" tarn
TARN="${TARN_BUILD_DIR:-$ROOT/build}/tarn"
DATA="$(mktemp -d /tmp/tarn-load.XXXXXX)"
trap 'kill "${SERVER:-}" 2>/dev/null || true; wait "${SERVER:-}" 2>/dev/null || true; rm -rf "$DATA"' EXIT
printf 'load-admin-pw\n' | "$TARN" init -d "$DATA" --admin-password-stdin >/dev/null 2>&1
PORT=$((20000 + RANDOM % 20000))
bench_server_config "$DATA/tarn.toml"
bench_start_server "$TARN" "$DATA" "$PORT" "$DATA/tarn.toml" "$DATA/server.log"
TARN_TOKEN="$(bench_token "$PORT" admin load-admin-pw)"
export TARN_TOKEN
rss() { awk '/VmRSS/ {print $2}' "/proc/$SERVER/status"; }
# Warm up (sessions, caches), then measure.
wrk -t2 -c16 -d3s -s "$ROOT/bench/load.lua" "http://127.0.0.1:$PORT" >/dev/null
RSS_START=$(rss)
SAMPLES="$RSS_START"
( for _ in $(seq $((SECS / 5))); do sleep 5; echo "$(rss)"; done ) >"$DATA/rss" &
SAMPLER=$!
LOADED="$(wrk -t2 -c"$CONNS" -d"${SECS}s" --timeout 10s -s "$ROOT/bench/load.lua" "http://127.0.0.1:$PORT")"
wait "$SAMPLER" || true
SAMPLES="$SAMPLES $(tr '\n' ' ' <"$DATA/rss")"
RSS_END=$(rss)
LIGHT="$(wrk -t1 -c4 -d10s -s "$ROOT/bench/load.lua" "http://127.0.0.1:$PORT")"
mkdir -p "$ROOT/bench/results"
REPORT="$ROOT/bench/results/load-$(date -u +%Y%m%d-%H%M%S).md"
cat >"$REPORT" <<EOT
# HTTP load: trivial statements

- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB
- server: \`tarn server\` (8 workers, SQLite metadata), loopback, plain HTTP, keep-alive
- request: POST /v1/statements {"sql": "SELECT 1 AS one"} with a bearer token (RS256 JWT verified and the user looked up on every request)
- client: wrk, 2 threads

| run | connections | duration | requests | requests/s | failed | p50 ms | p90 ms | p99 ms | max ms |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
| loaded | $CONNS | ${SECS} s | $(pick "$LOADED" requests) | $(pick "$LOADED" rps) | $(pick "$LOADED" non_2xx_or_socket_errors) | $(pick "$LOADED" p50_ms) | $(pick "$LOADED" p90_ms) | $(pick "$LOADED" p99_ms) | $(pick "$LOADED" max_ms) |
| light | 4 | 10 s | $(pick "$LIGHT" requests) | $(pick "$LIGHT" rps) | $(pick "$LIGHT" non_2xx_or_socket_errors) | $(pick "$LIGHT" p50_ms) | $(pick "$LIGHT" p90_ms) | $(pick "$LIGHT" p99_ms) | $(pick "$LIGHT" max_ms) |

Server memory (RSS, kB) every 5 s during the loaded run: $SAMPLES; after: $RSS_END.

With $CONNS connections each keeping one request in flight, latency is queueing:
p50 ~= connections / throughput (Little's law). The p50 target (<= 5 ms) is met or
not by the light run, which measures the cost of one statement.
EOT
cat "$REPORT"
