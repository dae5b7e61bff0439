# Helpers shared by the benchmarks; sourced.

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

# The reference reconciliation's two Parquet files (its gen.sql, ROWS rows each) as
# IN/ledger/ledger.parquet and IN/statement/statement.parquet, made by duckdb_run.
# Usage: bench_gen_recon DUCKDB_RUN REFERENCE_DIR IN ROWS WORK
bench_gen_recon() {
  mkdir -p "$3/ledger" "$3/statement"
  sed -e "s#'DATA/ledger.parquet'#'$3/ledger/ledger.parquet'#; s#'DATA/statement.parquet'#'$3/statement/statement.parquet'#" \
    -e "s#range(53000000)#range($4)#g" "$2/gen.sql" >"$5/gen-recon.sql"
  "$1" --threads 2 "$5/gen-recon.sql"
}
# What registers them (and the reference's fx table) in database bench, relative to the lake.
BENCH_RECON_TABLES="CREATE DATABASE IF NOT EXISTS bench;
  CREATE EXTERNAL TABLE bench.ledger LOCATION 'bench/ledger' FORMAT parquet;
  CREATE EXTERNAL TABLE bench.statement LOCATION 'bench/statement' FORMAT parquet;
  CREATE TABLE bench.fx AS SELECT * FROM (VALUES ('USD',1.0),('EUR',1.08),('GBP',1.27),('JPY',0.0067),('CHF',1.12)) v(currency, usd_rate)"

# The validation benchmark's two tables of ROWS records, 8 columns, keyed by id, as
# IN/src/src.parquet and IN/dst/dst.parquet. Planted, by id: id % 3001 = 0 dropped
# from the target; = 1 amount + 1; = 2 status changed; = 3 note NULL in the target;
# 1 extra target record per 3001 (ids above ROWS). About 0.1% of the records differ.
# Usage: bench_gen_validate DUCKDB_RUN IN ROWS WORK
bench_gen_validate() {
  mkdir -p "$2/src" "$2/dst"
  cat >"$4/gen-validate.sql" <<EOT
COPY (SELECT range AS id, 'C' || lpad(CAST(hash(range) % 1000000 AS VARCHAR), 7, '0') AS customer,
  CAST((hash(range * 3) % 10000000) / 100.0 AS DECIMAL(12,2)) AS amount, CAST(hash(range * 5) % 50 AS INTEGER) AS qty,
  DATE '2020-01-01' + CAST(hash(range * 7) % 1500 AS INTEGER) AS day,
  ['open', 'paid', 'shipped', 'closed'][1 + CAST(hash(range * 11) % 4 AS INTEGER)] AS status,
  (hash(range * 13) % 1000000) / 1000.0 AS score, 'note ' || CAST(hash(range * 17) % 100000 AS VARCHAR) AS note
  FROM range($3)) TO '$2/src/src.parquet' (FORMAT parquet);
COPY (SELECT id, customer, CASE WHEN id % 3001 = 1 THEN amount + 1 ELSE amount END AS amount, qty, day,
  CASE WHEN id % 3001 = 2 THEN 'disputed' ELSE status END AS status, score,
  CASE WHEN id % 3001 = 3 THEN NULL ELSE note END AS note
  FROM read_parquet('$2/src/src.parquet') WHERE id % 3001 <> 0
  UNION ALL SELECT $3 + range, 'X', 1.00, 1, DATE '2024-01-01', 'open', 0.5, 'extra' FROM range($3 // 3001))
  TO '$2/dst/dst.parquet' (FORMAT parquet);
EOT
  "$1" --threads 2 "$4/gen-validate.sql"
}
BENCH_VALIDATE_TABLES="CREATE DATABASE IF NOT EXISTS bench;
  CREATE EXTERNAL TABLE bench.src LOCATION 'bench/src' FORMAT parquet;
  CREATE EXTERNAL TABLE bench.dst LOCATION 'bench/dst' FORMAT parquet"
# The validation benchmark's spec (every column compared, amounts within 0.001), named $1.
bench_validate_spec() {
  printf 'name: %s\nsource: bench.src\ntarget: bench.dst\nkeys: [id]\ncolumns:\n  amount: {abs_tolerance: 0.001}\n  customer: {}\n  qty: {}\n  day: {}\n  status: {}\n  score: {}\n  note: {}\nthresholds: [matched_fraction >= 0.99]\n' "$1"
}

# The reference reconciliation's outputs (tables of database bench, but breaks).
BENCH_RECON_OUTS="by_acct pv pv2 unmatched_right top_breaks dedup ranked cum unpv summary cp_stats"
# The checksum of output $1 (read from $2, default $1): per column,
# the sum of the hashes of its values as text, numbers as DOUBLE (so a HUGEINT and its
# DECIMAL(38,0) lake copy compare equal). dedup: only acct_norm and posted, as which amount of rows
# tied on posted is kept is not defined; top_breaks: only abs_diff_usd, as which of the
# rows tied at the 1000th are kept is not defined either.
bench_sums() {
  local cols="*"
  [ "$1" = dedup ] && cols="acct_norm, posted"
  [ "$1" = top_breaks ] && cols="abs_diff_usd"
  echo "sum(hash(coalesce(CAST(TRY_CAST(COLUMNS(*) AS DOUBLE) AS VARCHAR), CAST(COLUMNS(*) AS VARCHAR)))) FROM (SELECT $cols FROM ${2:-$1})"
}
# The pipeline's outputs' checksums, over the same columns: "name|rows|sum..." lines.
# Usage: bench_recon_checksums TARN DATA_DIR
bench_recon_checksums() {
  local t
  for t in $BENCH_RECON_OUTS breaks; do
    "$1" sql -d "$2" -q --format csv "SELECT '$t' AS t, count(*) AS n, $(bench_sums "$t" "bench.$t")" |
      tail -n +2 | tr ',' '|'
  done
}
