# Helpers shared by the HTTP benchmarks (bench/load.sh, bench/governance.sh); sourced.

# Installs wrk if it is missing.
bench_need_wrk() {
  command -v wrk >/dev/null && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get install -y -qq wrk >/dev/null
}

# Writes to $1 the server configuration the benchmarks run with: 8 workers and room
# for thousands of connections, so that the client, not admission, is the limit.
bench_server_config() {
  cat >"$1" <<EOT
[limits]
max_connections = 4096
max_queue = 1024
workers = 8
EOT
}

# Starts `tarn server` in the background and waits until /healthz answers.
# Usage: bench_start_server TARN DATA_DIR PORT CONFIG LOG   (stderr appended to LOG)
# Sets SERVER to its pid.
bench_start_server() {
  "$1" server -d "$2" --listen "127.0.0.1:$3" --config "$4" 2>>"$5" &
  SERVER=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$3/healthz" >/dev/null && return 0; sleep 0.1; done
  echo "bench: the server on port $3 did not come up (see $5)" >&2
  return 1
}

# Prints an access token for USER/PASSWORD from the server on PORT (password grant).
bench_token() {
  curl -sf -d "grant_type=password&username=$2&password=$3" "http://127.0.0.1:$1/oauth2/token" |
    sed 's/.*"access_token":"\([^"]*\)".*/\1/'
}

# The number after NAME= in TEXT (the key=value lines load.lua and tarn_bench print).
# Usage: pick TEXT NAME
pick() { grep -o "$2=[0-9.]*" <<<"$1" | cut -d= -f2; }

# The median of the numbers on stdin (one per line).
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Wall seconds and peak RSS (GiB) from a GNU `time -v` report file.
time_wall() { awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$1"; }
time_rss_gib() { awk -F': ' '/Maximum resident set size/ { printf "%.2f", $2 / 1048576 }' "$1"; }
