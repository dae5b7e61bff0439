// tarn_bench: Tarn vs raw DuckDB on the same Parquet files, in the same run.
//
//   tarn_bench compare --data-dir D [--runs N] [--report FILE]
//       For each query (scan, aggregate, join over the demo lake), times
//       `tarn sql` end to end (a process per run) against `tarn_bench raw`, a
//       process that runs the same query in a plain DuckDB on the same files, with
//       the same thread count. Runs alternate; medians and ratios go to a
//       markdown report.
//   tarn_bench compare --governed ...
//       The same, with governance active: the queries run as `bench_user` (group
//       bench_analysts) through data filters with row filters and a column mask
//       on each table (set up by this command), against raw DuckDB running the
//       same filters and masks written by hand into the query.
//   tarn_bench audit [--dir D] [--threads N] [--events N]
//       Audit-trail throughput: N threads appending events with group commit,
//       against the same threads taking turns (one fsync per event).
//   tarn_bench raw "SQL"
//       Runs SQL in a plain in-memory DuckDB and prints the row count.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_log.h"
#include "catalog/catalog.h"
#include "common/error.h"
#include "identity/directory.h"
#include "session/instance.h"

namespace fs = std::filesystem;

namespace {

struct Query {
  const char* name;
  std::string sql;  // over catalog names
};

const std::vector<Query> kQueries = {
    {"scan", "SELECT count(*), sum(amount), max(order_date) FROM sales.orders WHERE status = 'completed'"},
    {"aggregate",
     "SELECT region, channel, date_trunc('month', order_date) AS month, count(*) AS n, sum(amount) AS "
     "revenue, "
     "avg(quantity) AS avg_qty FROM sales.orders GROUP BY ALL ORDER BY ALL"},
    {"join",
     "SELECT c.country, c.segment, count(*) AS n, sum(o.amount) AS revenue FROM sales.orders o "
     "JOIN sales.customers c USING (customer_id) GROUP BY ALL ORDER BY revenue DESC LIMIT 20"},
};

// Drains every result it is given.
using Drain = tarn::session::Drain;

// Governance for --governed: analysts read orders that are not cancelled, with the
// partner channel masked, and customers outside APAC without email and phone, with
// the segment masked. The raw side applies the same rules by hand.
constexpr const char* kBenchUser = "bench_user";
const std::vector<std::string> kPolicy = {
    "DROP DATA FILTER IF EXISTS bench_orders",
    "DROP DATA FILTER IF EXISTS bench_customers",
    "CREATE DATA FILTER bench_orders ON sales.orders ROW FILTER status <> 'cancelled'",
    "CREATE DATA FILTER bench_customers ON sales.customers EXCLUDING (email, phone) ROW FILTER region <> "
    "'APAC'",
    "ALTER TABLE sales.orders ALTER COLUMN channel SET MASK CASE WHEN channel = 'partner' THEN 'other' ELSE "
    "channel END",
    "ALTER TABLE sales.customers ALTER COLUMN segment SET MASK upper(segment)",
    "GRANT SELECT ON DATA FILTER bench_orders TO GROUP bench_analysts",
    "GRANT SELECT ON DATA FILTER bench_customers TO GROUP bench_analysts",
    "GRANT SELECT ON TABLE sales.products TO GROUP bench_analysts",
};
const char* kOrdersByHand =
    "(SELECT order_id, customer_id, product_id, order_date, quantity, unit_price, amount, status, CASE WHEN "
    "channel = 'partner' THEN 'other' ELSE channel END AS channel, region FROM {} WHERE status <> "
    "'cancelled')";
// The same with each cell guarded as Tarn's governed scans do (CASE WHEN <row
// filter> THEN <value> END, so no pushed-down predicate sees a hidden row's value):
// what the semantics cost in DuckDB itself, without Tarn.
const char* kOrdersGuarded =
    "(SELECT CASE WHEN status <> 'cancelled' THEN order_id END AS order_id, CASE WHEN status <> 'cancelled' "
    "THEN customer_id END AS customer_id, CASE WHEN status <> 'cancelled' THEN product_id END AS product_id, "
    "CASE WHEN status <> 'cancelled' THEN order_date END AS order_date, CASE WHEN status <> 'cancelled' THEN "
    "quantity END AS quantity, CASE WHEN status <> 'cancelled' THEN unit_price END AS unit_price, CASE WHEN "
    "status <> 'cancelled' THEN amount END AS amount, CASE WHEN status <> 'cancelled' THEN status END AS "
    "status, CASE WHEN status <> 'cancelled' THEN CASE WHEN channel = 'partner' THEN 'other' ELSE channel "
    "END END AS channel, CASE WHEN status <> 'cancelled' THEN region END AS region FROM {} WHERE status <> "
    "'cancelled')";
const char* kCustomersGuarded =
    "(SELECT CASE WHEN region <> 'APAC' THEN customer_id END AS customer_id, CASE WHEN region <> 'APAC' THEN "
    "first_name END AS first_name, CASE WHEN region <> 'APAC' THEN last_name END AS last_name, CASE WHEN "
    "region <> 'APAC' THEN region END AS region, CASE WHEN region <> 'APAC' THEN country END AS country, "
    "CASE WHEN region <> 'APAC' THEN upper(segment) END AS segment, CASE WHEN region <> 'APAC' THEN "
    "signup_date END AS signup_date FROM {} WHERE region <> 'APAC')";
const char* kCustomersByHand =
    "(SELECT customer_id, first_name, last_name, region, country, upper(segment) AS segment, signup_date "
    "FROM {} WHERE region <> 'APAC')";

void ApplyPolicy(tarn::session::Instance& instance, const std::string& password) {
  {
    auto store = instance.OpenMetastore();
    tarn::identity::Directory dir(*store);
    try {
      dir.AddGroup("bench_analysts");
    } catch (const tarn::Error&) {  // exists from an earlier run
    }
    try {
      dir.AddUser(kBenchUser, password, tarn::identity::UserKind::kPerson, false);
      dir.AddMember("bench_analysts", kBenchUser);
    } catch (const tarn::Error&) {
      dir.SetPassword(kBenchUser, password);
    }
  }
  auto admin = instance.NewSession();
  Drain drain;
  for (auto& sql : kPolicy) admin->Execute(sql, drain);
}

// Runs argv, discarding output; returns wall seconds (or -1 on failure).
double TimeProcess(const std::vector<std::string>& argv) {
  auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    freopen("/dev/null", "w", stdout);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

std::string ReadFirstLine(const char* path, const char* key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      std::string v = line.substr(line.find(':') + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  }
  return "?";
}


template <typename F>
double Seconds(F&& f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The query with every catalog table replaced by a direct read of the files Tarn scans.
enum class RawForm { kPlain, kFiltered, kGuarded };

std::string RawSql(tarn::session::Instance& instance, std::string sql, RawForm form) {
  auto session = instance.NewSession();
  for (auto& name : {"sales.orders", "sales.customers"}) {
    std::string n = name;
    auto dot = n.find('.');
    auto table = session->catalog().GetTable(n.substr(0, dot), n.substr(dot + 1));
    std::string list;
    for (auto& f : session->catalog().FilesToScan(table)) list += (list.empty() ? "'" : ", '") + f + "'";
    std::string scan = "read_parquet([" + list +
                       "], hive_partitioning = " + (table.partition_columns.empty() ? "false" : "true") + ")";
    if (form != RawForm::kPlain) {
      bool orders = n == "sales.orders";
      std::string wrap = form == RawForm::kFiltered ? (orders ? kOrdersByHand : kCustomersByHand)
                                                    : (orders ? kOrdersGuarded : kCustomersGuarded);
      scan = wrap.replace(wrap.find("{}"), 2, scan);
    }
    for (size_t pos; (pos = sql.find(n)) != std::string::npos;) sql.replace(pos, n.size(), scan);
  }
  return sql;
}

// The rows of a result as text, one line per row.
void AppendRows(duckdb::DataChunk& chunk, std::string& out) {
  for (duckdb::idx_t r = 0; r < chunk.size(); r++) {
    for (duckdb::idx_t c = 0; c < chunk.ColumnCount(); c++) out += chunk.GetValue(c, r).ToString() + "|";
    out += "\n";
  }
}

std::string RowsText(duckdb::QueryResult& result) {
  std::string out;
  while (auto chunk = result.Fetch()) {
    if (chunk->size() == 0) break;
    AppendRows(*chunk, out);
  }
  return out;
}

class Collect : public tarn::session::ResultHandler {
 public:
  void OnColumns(const std::vector<std::string>&, const std::vector<duckdb::LogicalType>&) override { text.clear(); }
  bool OnChunk(duckdb::DataChunk& chunk) override {
    AppendRows(chunk, text);
    return true;
  }
  void OnStatus(const std::string&) override {}
  std::string text;
};

bool SameResult(tarn::session::Session& session, const std::string& sql, duckdb::Connection& raw,
                const std::string& raw_sql) {
  Collect c;
  session.Execute(sql, c);
  auto r = raw.Query(raw_sql);
  if (r->HasError()) throw std::runtime_error(r->GetError());
  return !c.text.empty() && c.text == RowsText(*r);
}

// Appends `events` audit events from `threads` threads into a fresh trail under
// `dir`; `serial`: the threads take turns (one fsync per event). Returns events/s.
double AuditRate(const fs::path& dir, int threads, int events, bool serial) {
  fs::remove_all(dir);
  tarn::audit::AuditLog log(dir);
  std::mutex turn;
  std::atomic<int> next{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; t++) {
    pool.emplace_back([&, t] {
      while (next.fetch_add(1) < events) {
        nlohmann::json e = {{"event", "statement"}, {"user_name", "bench"},   {"client", "bench"},
                            {"statement", "SELECT 1"}, {"outcome", "ok"},     {"rows", 1},
                            {"thread", t},               {"duration_ms", 0.1}};
        if (serial) {
          std::lock_guard<std::mutex> lock(turn);
          log.Append(e);
        } else {
          log.Append(e);
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto v = tarn::audit::Verify(dir);
  if (!v.ok || v.events != static_cast<int64_t>(events)) {
    throw std::runtime_error("audit trail after the run: " + v.problem);
  }
  return events / secs;
}

int AuditBench(const fs::path& dir, int threads, int events) {
  double grouped = AuditRate(dir / "grouped", threads, events, false);
  double serial = AuditRate(dir / "serial", threads, std::max(events / 10, 100), true);
  std::printf("audit_threads=%d grouped_events_per_s=%.0f serial_events_per_s=%.0f ratio=%.1f\n", threads,
              grouped, serial, grouped / serial);
  fs::remove_all(dir);
  return 0;
}

int Raw(const std::string& sql, int threads) {
  duckdb::DBConfig config;
  if (threads > 0) config.SetOptionByName("threads", duckdb::Value::BIGINT(threads));
  duckdb::DuckDB db(nullptr, &config);
  duckdb::Connection con(db);
  auto result = con.Query(sql);
  if (result->HasError()) {
    std::cerr << result->GetError() << "\n";
    return 1;
  }
  std::cout << result->RowCount() << " rows\n";
  return 0;
}

int Compare(const std::string& data_dir, int runs, const std::string& report, const std::string& self,
            bool governed) {
  tarn::session::InstanceOptions options;
  options.data_dir = data_dir;
  tarn::session::Instance instance(options);
  if (governed) ApplyPolicy(instance, "bench-password-1");
  int64_t rows = 0;
  {
    auto session = instance.NewSession();
    auto t = session->catalog().GetTable("sales", "orders");
    rows = session->catalog().GetSnapshot(*t.snapshot_id).row_count;
  }
  unsigned threads = std::thread::hardware_concurrency();
  std::ostringstream md;
  md << (governed ? "# Governed Tarn vs raw DuckDB on the demo lake (row filters and masks active)\n\n"
                   : "# Tarn vs raw DuckDB on the demo lake\n\n");
  md << "- machine: " << ReadFirstLine("/proc/cpuinfo", "model name") << ", " << threads << " cores, "
     << ReadFirstLine("/proc/meminfo", "MemTotal") << " memory\n";
  md << "- engine: DuckDB " << duckdb::DuckDB::LibraryVersion() << ", " << threads
     << " threads on both sides\n";
  md << "- data: sales.orders " << rows << " rows (Hive-partitioned Parquet), sales.customers\n";
  md << "- method: each run is a fresh process (`tarn sql` vs `tarn_bench raw` on the same files); runs "
        "alternate; "
     << runs << " runs per side after one warm-up each; wall-clock medians\n";
  if (governed) {
    md << "- governance: Tarn runs the queries as `" << kBenchUser
       << "` (group bench_analysts) through data filters with row filters and masks:\n";
    for (auto& p : kPolicy) {
      if (p.rfind("DROP", 0) != 0) md << "  - `" << p << "`\n";
    }
    md << "- raw DuckDB runs the same filters and masks written into the query: orders = `"
       << kOrdersByHand << "`, customers = `" << kCustomersByHand << "` over `read_parquet` of the same files\n";
  }
  md << "\n";
  md << "| query | tarn sql median (s) | raw DuckDB median (s) | ratio tarn/raw | in-process tarn (s) | "
        "in-process raw (s) | in-process ratio | in-process raw with cell guards (s) | ratio tarn / guarded "
        "raw |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  auto session = instance.NewSession();
  if (governed) {
    tarn::identity::Principal p{kBenchUser, {"bench_analysts"}, "local", false};
    session->SetCaller({p, {"bench"}});
  }
  duckdb::DuckDB raw_db(nullptr);
  duckdb::Connection raw_conn(raw_db);
  std::cerr << "rows in sales.orders: " << rows << "\n";
  for (auto& q : kQueries) {
    std::string raw_sql = RawSql(instance, q.sql, governed ? RawForm::kFiltered : RawForm::kPlain);
    std::string guarded_sql = RawSql(instance, q.sql, RawForm::kGuarded);
    std::vector<std::string> tarn_cmd = {TARN_BINARY, "sql", "-q", "--format", "csv", "-d", data_dir, q.sql};
    if (governed) tarn_cmd.insert(tarn_cmd.begin() + 2, {"--as", kBenchUser});
    std::vector<std::string> raw_cmd = {self, "raw", raw_sql};
    if (TimeProcess(tarn_cmd) < 0 || TimeProcess(raw_cmd) < 0) {
      std::cerr << q.name << ": a command failed\n";
      return 1;
    }
    std::vector<double> tarn_times, raw_times;
    for (int i = 0; i < runs; i++) {
      if (i % 2 == 0) {
        tarn_times.push_back(TimeProcess(tarn_cmd));
        raw_times.push_back(TimeProcess(raw_cmd));
      } else {
        raw_times.push_back(TimeProcess(raw_cmd));
        tarn_times.push_back(TimeProcess(tarn_cmd));
      }
    }
    // In one process: the session (catalog resolution, sandboxed engine) against a
    // plain DuckDB connection, so process start-up is out of the comparison.
    std::vector<double> tarn_in, raw_in, guarded_in;
    Drain drain;
    auto run_raw = [&](const std::string& sql) {
      return Seconds([&] {
        auto result = raw_conn.Query(sql);
        if (result->HasError()) throw std::runtime_error(result->GetError());
      });
    };
    for (int i = 0; i <= runs; i++) {
      double a = Seconds([&] { session->Execute(q.sql, drain); });
      double b = run_raw(raw_sql);
      if (governed) guarded_in.push_back(run_raw(guarded_sql));
      if (i == 0) {  // warm-up; and the two sides must agree
        if (governed && (!SameResult(*session, q.sql, raw_conn, raw_sql) ||
                         !SameResult(*session, q.sql, raw_conn, guarded_sql))) {
          std::cerr << q.name << ": governed Tarn and raw DuckDB disagree\n";
          return 1;
        }
        if (governed) guarded_in.clear();
        continue;
      }
      tarn_in.push_back(a);
      raw_in.push_back(b);
    }
    double t = Median(tarn_times), r = Median(raw_times), ti = Median(tarn_in), ri = Median(raw_in);
    char line[320];
    if (governed) {
      double gi = Median(guarded_in);
      std::snprintf(line, sizeof line, "| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |\n",
                    q.name, t, r, t / r, ti, ri, ti / ri, gi, ti / gi);
    } else {
      std::snprintf(line, sizeof line, "| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | - | - |\n", q.name,
                    t, r, t / r, ti, ri, ti / ri);
    }
    md << line;
    std::cerr << line;
  }
  md << "\nTarget: ratio <= 1.05. The Tarn side includes opening the metadata store and resolving "
        "the catalog tables to their snapshot files.\n";
  std::ofstream out(report);
  out << md.str();
  std::cerr << "report written to " << report << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() >= 2 && args[0] == "raw") return Raw(args[1], 0);
    if (!args.empty() && args[0] == "audit") {
      fs::path dir = fs::temp_directory_path() / ("tarn-audit-bench-" + std::to_string(getpid()));
      int threads = 50, events = 20000;
      for (size_t i = 1; i + 1 < args.size(); i += 2) {
        if (args[i] == "--dir")
          dir = args[i + 1];
        else if (args[i] == "--threads")
          threads = std::stoi(args[i + 1]);
        else if (args[i] == "--events")
          events = std::stoi(args[i + 1]);
        else
          throw tarn::Error::InvalidArgument("unknown option {}", args[i]);
      }
      return AuditBench(dir, threads, events);
    }
    if (!args.empty() && args[0] == "compare") {
      std::string data_dir, report = "bench/results/lake.md";
      int runs = 7;
      bool governed = false;
      for (size_t i = 1; i < args.size(); i++) {
        if (args[i] == "--governed") {
          governed = true;
          continue;
        }
        if (i + 1 >= args.size()) throw tarn::Error::InvalidArgument("option {} needs a value", args[i]);
        if (args[i] == "--data-dir")
          data_dir = args[i + 1];
        else if (args[i] == "--runs")
          runs = std::stoi(args[i + 1]);
        else if (args[i] == "--report")
          report = args[i + 1];
        else
          throw tarn::Error::InvalidArgument("unknown option {}", args[i]);
        i++;
      }
      if (data_dir.empty()) throw tarn::Error::InvalidArgument("compare needs --data-dir");
      return Compare(data_dir, runs, report, fs::canonical("/proc/self/exe").string(), governed);
    }
    std::cerr << "usage: tarn_bench compare --data-dir D [--governed] [--runs N] [--report FILE]\n"
                 "       tarn_bench audit [--dir D] [--threads N] [--events N]\n"
                 "       tarn_bench raw SQL\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
