#include "cli/cli.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "cli/demo_data.h"
#include "cli/progress.h"
#include "common/error.h"
#include "engine/result_writer.h"
#include "session/instance.h"

namespace fs = std::filesystem;

namespace tarn::cli {

namespace {

constexpr const char* kVersion = "0.1.0";

std::string DefaultDataDir() {
  const char* env = std::getenv("TARN_DATA_DIR");
  return env && *env ? env : "tarn-data";
}

std::string DefaultMetastore() {
  const char* env = std::getenv("TARN_METASTORE");
  return env ? env : "";
}

// Options every command that opens a data directory shares.
struct InstanceFlags {
  std::string data_dir = DefaultDataDir();
  std::string metastore = DefaultMetastore();
  std::string memory_limit;
  int threads = 0;

  void AddTo(CLI::App* cmd, bool engine_flags) {
    cmd->add_option("--data-dir,-d", data_dir, "Data directory (default: $TARN_DATA_DIR or ./tarn-data)");
    cmd->add_option(
        "--metastore", metastore,
        "Metadata store: postgresql://user@host/db (default: $TARN_METASTORE or the SQLite file in the "
        "data directory)");
    if (engine_flags) {
      cmd->add_option("--memory-limit", memory_limit, "Engine memory limit, e.g. 4GB (default: 80% of RAM)");
      cmd->add_option("--threads", threads, "Engine threads (default: all cores)")
          ->check(CLI::Range(0, 1024));
    }
  }
  session::InstanceOptions Options() const {
    session::InstanceOptions o;
    o.data_dir = data_dir;
    o.metastore = metastore;
    o.memory_limit = memory_limit;
    o.threads = threads;
    return o;
  }
};

// While alive, Ctrl-C (SIGINT) or SIGTERM calls `on_signal` from a helper thread
// instead of killing the process; a second signal exits at once.
class InterruptGuard {
 public:
  explicit InterruptGuard(std::function<void()> on_signal) : on_signal_(std::move(on_signal)) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, &old_);
    thread_ = std::thread([this, set] {
      int count = 0;
      while (true) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) continue;
        if (sig == SIGUSR1 && stopping_) return;
        if (sig == SIGUSR1) continue;
        if (++count > 1) _exit(130);
        std::fputs("\ncancelling... (press Ctrl-C again to quit at once)\n", stderr);
        on_signal_();
      }
    });
  }
  ~InterruptGuard() {
    stopping_ = true;
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  std::function<void()> on_signal_;
  std::atomic<bool> stopping_{false};
  sigset_t old_;
  std::thread thread_;
};

// Prints query results with a writer and statuses on stderr.
class PrintHandler : public session::ResultHandler {
 public:
  PrintHandler(engine::OutputFormat format, size_t max_rows, bool quiet)
      : format_(format), max_rows_(max_rows), quiet_(quiet) {}
  void OnRows(duckdb::QueryResult& result) override {
    auto writer = engine::MakeResultWriter(format_, std::cout, max_rows_);
    engine::WriteResult(result, *writer);
    std::cout.flush();
  }
  void OnStatus(const std::string& message) override {
    if (!quiet_) std::cerr << message << "\n";
  }

 private:
  engine::OutputFormat format_;
  size_t max_rows_;
  bool quiet_;
};

// Errors are one line; DuckDB's multi-line context (LINE 1: ...) is dropped.
std::string FirstLine(const std::string& message) {
  auto nl = message.find('\n');
  std::string line = message.substr(0, nl);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
  return line;
}

std::string ReadAll(std::istream& in) {
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int RunSql(const InstanceFlags& flags, const std::string& sql_arg, const std::string& file,
           const std::string& format_name, const std::string& output, size_t max_rows, bool quiet) {
  std::string sql = sql_arg;
  if (!file.empty()) {
    if (!sql.empty()) throw Error::InvalidArgument("give SQL either as an argument or with --file, not both");
    std::ifstream in(file);
    if (!in) throw Error::NotFound("cannot read SQL file {}", file);
    sql = ReadAll(in);
  } else if (sql.empty()) {
    if (isatty(STDIN_FILENO)) {
      throw Error::InvalidArgument(
          "no SQL given: pass it as an argument, with --file FILE, or on standard input");
    }
    sql = ReadAll(std::cin);
  }
  std::optional<fs::path> parquet;
  engine::OutputFormat format = engine::OutputFormat::kTable;
  if (format_name == "parquet") {
    if (output.empty()) throw Error::InvalidArgument("--format parquet needs --output FILE");
    parquet = fs::absolute(output);
  } else {
    format = engine::ParseOutputFormat(format_name);
    if (!output.empty())
      throw Error::InvalidArgument("--output is for --format parquet; redirect other formats");
  }
  session::Instance instance(flags.Options());
  auto session = instance.NewSession();
  PrintHandler handler(format, max_rows, quiet);
  InterruptGuard guard([&] { session->Cancel(); });
  session->Execute(sql, handler, parquet);
  return 0;
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{
      "tarn: a governed data-lake compute service\n\nRun `tarn COMMAND --help` for a command's options.",
      "tarn"};
  app.require_subcommand(1);
  app.set_version_flag("--version", kVersion);

  // tarn version
  auto* version = app.add_subcommand("version", "Print the version of tarn and of its engine");

  // tarn init
  InstanceFlags init_flags;
  auto* init = app.add_subcommand("init", "Create a data directory (lake, metadata store)");
  init_flags.AddTo(init, false);

  // tarn sql
  InstanceFlags sql_flags;
  std::string sql, sql_file, format = "table", output;
  size_t max_rows = 1000;
  bool quiet = false;
  auto* sqlc = app.add_subcommand("sql", "Run SQL statements over the lake's catalog tables");
  sqlc->footer(
      "SQL: DuckDB queries over tables named database.table, plus\n"
      "  CREATE DATABASE [IF NOT EXISTS] db            DROP DATABASE [IF EXISTS] db [CASCADE]\n"
      "  CREATE EXTERNAL TABLE db.t LOCATION 'path/in/lake' [FORMAT parquet|csv|json] [PARTITIONED BY (col, "
      "...)]\n"
      "  CREATE TABLE db.t (col TYPE, ...)              CREATE TABLE db.t AS SELECT ...\n"
      "  INSERT INTO db.t SELECT ...                    INSERT OVERWRITE db.t SELECT ...\n"
      "  DROP TABLE [IF EXISTS] db.t                    SHOW DATABASES | SHOW TABLES [IN db]\n"
      "  DESCRIBE db.t                                  SHOW SNAPSHOTS db.t\n"
      "Statements are separated by ';'. SQL comes from the argument, --file, or standard input.\n"
      "Example: tarn sql \"SELECT region, count(*) FROM sales.orders GROUP BY ALL\"");
  sql_flags.AddTo(sqlc, true);
  sqlc->add_option("sql", sql, "SQL text (one or more statements)");
  sqlc->add_option("--file,-f", sql_file, "Read SQL from this file");
  sqlc->add_option("--format", format, "Output: table, csv, json (JSON lines) or parquet (needs --output)")
      ->check(CLI::IsMember({"table", "csv", "json", "parquet"}));
  sqlc->add_option("--output,-o", output, "File for --format parquet");
  sqlc->add_option("--max-rows", max_rows, "Rows the table format prints at most (default 1000)");
  sqlc->add_flag("--quiet,-q", quiet, "Do not print statement status lines on stderr");

  // tarn demo-data
  InstanceFlags demo_flags;
  DemoDataOptions demo;
  auto* democ = app.add_subcommand("demo-data",
                                   "Create the demo lake (sales and finance data), initialising if needed");
  demo_flags.AddTo(democ, true);
  democ->add_option("--rows", demo.rows,
                    "Rows in sales.orders (ledger: rows/2, customers: rows/20); default 100000");
  democ->add_flag("--replace", demo.replace, "Drop and rebuild the demo databases if they exist");

  // tarn gc
  InstanceFlags gc_flags;
  int64_t older_than = 3600;
  auto* gc =
      app.add_subcommand("gc", "Delete data files no table snapshot refers to (left by failed writes)");
  gc_flags.AddTo(gc, false);
  gc->add_option("--older-than", older_than, "Only files older than this many seconds (default 3600)")
      ->check(CLI::NonNegativeNumber);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    if (*version) {
      std::cout << "tarn " << kVersion << " (DuckDB " << duckdb::DuckDB::LibraryVersion() << ")\n";
      return 0;
    }
    if (*init) {
      session::Instance::Init(init_flags.Options());
      std::cerr << "initialised data directory " << init_flags.data_dir << "\n";
      return 0;
    }
    if (*sqlc) return RunSql(sql_flags, sql, sql_file, format, output, max_rows, quiet);
    if (*democ) {
      session::Instance::Init(demo_flags.Options());
      session::Instance instance(demo_flags.Options());
      auto sizes = DemoSizes::For(demo.rows);
      Progress bar("demo-data", sizes.Total());
      CreateDemoData(instance, demo, [&](uint64_t done, const std::string& step) { bar.Update(done, step); });
      bar.Finish();
      std::cerr << fmt::format(
          "demo lake ready in {}: sales.orders ({} rows), sales.customers ({}), sales.products ({}), "
          "finance.ledger ({}), finance.bank_statements, finance.expected_breaks\n",
          demo_flags.data_dir, sizes.orders, sizes.customers, sizes.products, sizes.ledger);
      return 0;
    }
    if (*gc) {
      session::Instance instance(gc_flags.Options());
      auto removed = instance.CollectGarbage(std::chrono::seconds(older_than));
      for (auto& f : removed) std::cout << f << "\n";
      std::cerr << "removed " << removed.size() << " orphan file(s)\n";
      return 0;
    }
  } catch (const Error& e) {
    std::cerr << "error: " << FirstLine(e.what()) << "\n";
    return ExitCodeFor(e.code());
  } catch (const std::exception& e) {
    std::cerr << "error: internal: " << FirstLine(e.what()) << "\n";
    return ExitCodeFor(ErrorCode::kInternal);
  }
  return 0;
}

}  // namespace tarn::cli
