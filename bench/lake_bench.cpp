// tarn_bench: Tarn vs raw DuckDB on the same Parquet files, in the same run.
//
//   tarn_bench compare --data-dir D [--runs N] [--report FILE]
//       For each query (scan, aggregate, join over the demo lake), times
//       `tarn sql` end to end (a process per run) against `tarn_bench raw`, a
//       process that runs the same query in a plain DuckDB on the same files, with
//       the same thread count. Runs alternate; medians and ratios go to a
//       markdown report.
//   tarn_bench raw "SQL"
//       Runs SQL in a plain in-memory DuckDB and prints the row count.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog.h"
#include "common/error.h"
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

// Drains every result it is given.
class Drain : public tarn::session::ResultHandler {
 public:
  int64_t OnRows(duckdb::QueryResult& result) override {
    int64_t n = 0;
    while (auto chunk = result.Fetch()) {
      if (chunk->size() == 0) break;
      n += static_cast<int64_t>(chunk->size());
    }
    return n;
  }
  void OnStatus(const std::string&) override {}
};

template <typename F>
double Seconds(F&& f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The query with every catalog table replaced by a direct read of the files Tarn scans.
std::string RawSql(tarn::session::Instance& instance, std::string sql) {
  auto session = instance.NewSession();
  for (auto& name : {"sales.orders", "sales.customers"}) {
    std::string n = name;
    auto dot = n.find('.');
    auto table = session->catalog().GetTable(n.substr(0, dot), n.substr(dot + 1));
    std::string list;
    for (auto& f : session->catalog().FilesToScan(table)) list += (list.empty() ? "'" : ", '") + f + "'";
    std::string scan = "read_parquet([" + list +
                       "], hive_partitioning = " + (table.partition_columns.empty() ? "false" : "true") + ")";
    for (size_t pos; (pos = sql.find(n)) != std::string::npos;) sql.replace(pos, n.size(), scan);
  }
  return sql;
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

int Compare(const std::string& data_dir, int runs, const std::string& report, const std::string& self) {
  tarn::session::InstanceOptions options;
  options.data_dir = data_dir;
  tarn::session::Instance instance(options);
  int64_t rows = 0;
  {
    auto session = instance.NewSession();
    auto t = session->catalog().GetTable("sales", "orders");
    rows = session->catalog().GetSnapshot(*t.snapshot_id).row_count;
  }
  unsigned threads = std::thread::hardware_concurrency();
  std::ostringstream md;
  md << "# Tarn vs raw DuckDB on the demo lake\n\n";
  md << "- machine: " << ReadFirstLine("/proc/cpuinfo", "model name") << ", " << threads << " cores, "
     << ReadFirstLine("/proc/meminfo", "MemTotal") << " memory\n";
  md << "- engine: DuckDB " << duckdb::DuckDB::LibraryVersion() << ", " << threads
     << " threads on both sides\n";
  md << "- data: sales.orders " << rows << " rows (Hive-partitioned Parquet), sales.customers\n";
  md << "- method: each run is a fresh process (`tarn sql` vs `tarn_bench raw` on the same files); runs "
        "alternate; "
     << runs << " runs per side after one warm-up each; wall-clock medians\n\n";
  md << "| query | tarn sql median (s) | raw DuckDB median (s) | ratio tarn/raw | in-process tarn (s) | "
        "in-process raw (s) "
        "| in-process ratio |\n|---|---:|---:|---:|---:|---:|---:|\n";
  auto session = instance.NewSession();
  duckdb::DuckDB raw_db(nullptr);
  duckdb::Connection raw_conn(raw_db);
  std::cerr << "rows in sales.orders: " << rows << "\n";
  for (auto& q : kQueries) {
    std::string raw_sql = RawSql(instance, q.sql);
    std::vector<std::string> tarn_cmd = {TARN_BINARY, "sql", "-q", "--format", "csv", "-d", data_dir, q.sql};
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
    std::vector<double> tarn_in, raw_in;
    Drain drain;
    for (int i = 0; i <= runs; i++) {
      double a = Seconds([&] { session->Execute(q.sql, drain); });
      double b = Seconds([&] {
        auto result = raw_conn.Query(raw_sql);
        if (result->HasError()) throw std::runtime_error(result->GetError());
      });
      if (i == 0) continue;  // warm-up
      tarn_in.push_back(a);
      raw_in.push_back(b);
    }
    double t = Median(tarn_times), r = Median(raw_times), ti = Median(tarn_in), ri = Median(raw_in);
    char line[256];
    std::snprintf(line, sizeof line, "| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |\n", q.name, t, r,
                  t / r, ti, ri, ti / ri);
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
    if (!args.empty() && args[0] == "compare") {
      std::string data_dir, report = "bench/results/lake.md";
      int runs = 7;
      for (size_t i = 1; i + 1 < args.size(); i += 2) {
        if (args[i] == "--data-dir")
          data_dir = args[i + 1];
        else if (args[i] == "--runs")
          runs = std::stoi(args[i + 1]);
        else if (args[i] == "--report")
          report = args[i + 1];
        else
          throw tarn::Error::InvalidArgument("unknown option {}", args[i]);
      }
      if (data_dir.empty()) throw tarn::Error::InvalidArgument("compare needs --data-dir");
      return Compare(data_dir, runs, report, fs::canonical("/proc/self/exe").string());
    }
    std::cerr << "usage: tarn_bench compare --data-dir D [--runs N] [--report FILE] | tarn_bench raw SQL\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
