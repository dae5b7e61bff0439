#include "cli/sql_command.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>

#include "cli/shell.h"
#include "cli/signals.h"
#include "common/error.h"
#include "common/util.h"
#include "engine/result_writer.h"
#include "identity/directory.h"
#include "session/runner.h"

namespace fs = std::filesystem;

namespace tarn::cli {

size_t TerminalWidth() {
  winsize ws{};
  if (!isatty(STDOUT_FILENO) || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0) return 0;
  return ws.ws_col;
}

// Who local statements run as: the operator, or a user of the data directory.
session::RunRequest LocalRequest(session::Instance& instance, const LocalCaller& caller) {
  const std::string& as_user = caller.as_user;
  session::RunRequest request;
  request.role = caller.role;
  request.principal = session::Instance::LocalCaller().principal;
  request.origin.kind = "cli";
  request.origin.request_id = RandomHex(8);
  if (!as_user.empty()) {
    // Whoever holds the data directory may check what a user would see: it runs
    // under that user's limits and is audited as that user with issuer "local".
    auto store = instance.OpenMetastore();
    identity::Directory dir(*store);
    auto p = dir.Lookup(identity::CheckPrincipalName(as_user, "user"), "local");
    if (!p) throw Error::NotFound("user {} does not exist (tarn user list shows them)", as_user);
    request.principal = *p;
  }
  return request;
}

// The local operator has no deadline and no result cap unless SET LIMIT gives one.
session::RunnerOptions LocalRunnerOptions() {
  session::RunnerOptions options;
  options.statement_timeout = std::chrono::milliseconds(0);
  return options;
}

namespace {

engine::TableLayout Layout(const SqlOutput& out) {
  return {out.max_rows, out.expanded, TerminalWidth()};
}

// Prints query results with a writer and statuses on stderr.
class PrintHandler : public session::ResultHandler {
 public:
  PrintHandler(engine::OutputFormat format, engine::TableLayout layout, bool quiet)
      : format_(format), layout_(layout), quiet_(quiet) {}
  void OnColumns(const std::vector<std::string>& names,
                 const std::vector<duckdb::LogicalType>& types) override {
    writer_ = engine::MakeResultWriter(format_, std::cout, layout_);
    writer_->Begin(names, types);
  }
  bool OnChunk(duckdb::DataChunk& chunk) override {
    writer_->Write(chunk);
    return true;
  }
  void OnRowsEnd() override {
    writer_->End();
    std::cout.flush();
  }
  void OnStatus(const std::string& message) override {
    if (!quiet_) std::cerr << message << "\n";
  }

 private:
  engine::OutputFormat format_;
  engine::TableLayout layout_;
  bool quiet_;
  std::unique_ptr<engine::ResultWriter> writer_;
};

// Runs one script; returns the exit code.
int RunScript(session::Runner& runner, session::RunRequest request, const std::string& sql,
              const SqlOutput& out) {
  std::optional<fs::path> parquet;
  engine::OutputFormat format = engine::OutputFormat::kTable;
  if (out.format == "parquet") {
    parquet = fs::absolute(out.output);
  } else {
    format = engine::ParseOutputFormat(out.format);
  }
  request.sql = sql;
  request.parquet_output = parquet;
  request.origin.run_id.clear();
  if (out.max_rows_given && format != engine::OutputFormat::kTable) request.caps.max_rows = out.max_rows;
  PrintHandler handler(format, Layout(out), out.quiet);
  auto result = runner.Run(request, handler);
  result.ThrowIfFailed();
  if (result.truncated) {
    std::cerr << "warning: the result is incomplete: it was cut at " << result.truncated_reason << "\n";
    return ExitCodeFor(ErrorCode::kResourceExhausted);
  }
  return 0;
}

class LocalBackend : public ShellBackend {
 public:
  LocalBackend(session::Instance& instance, session::Runner& runner, session::RunRequest request)
      : instance_(instance), runner_(runner), request_(std::move(request)) {}
  void Run(const std::string& sql, const SqlOutput& out) override { RunScript(runner_, request_, sql, out); }
  void Cancel() override { runner_.CancelAll(session::StopReason::kCancelled); }
  std::vector<std::string> Names() override {
    auto s = runner_.Borrow({request_.principal, request_.origin});
    s->governor().BeginStatement();
    std::vector<std::string> names;
    for (auto& db : s->governor().VisibleDatabases()) {
      names.push_back(db);
      for (auto& t : s->governor().VisibleTables(db)) {
        names.push_back(db + "." + t.name);
        for (auto& c : s->governor().VisibleTable(db, t.name).schema) names.push_back(c.name);
      }
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
  }
  std::string Describe() override {
    return "on " + instance_.options().data_dir.string() + " as " + request_.principal.user;
  }

 private:
  session::Instance& instance_;
  session::Runner& runner_;
  session::RunRequest request_;
};

// Statements on a server; Ctrl-C cancels the one running by its query id.
class RemoteShellBackend : public ShellBackend {
 public:
  explicit RemoteShellBackend(RemoteOptions remote) : remote_(std::move(remote)) {}
  void Run(const std::string& sql, const SqlOutput& out) override {
    std::string id = "cli-" + RandomHex(8);
    {
      std::lock_guard<std::mutex> lock(mu_);
      running_ = id;
    }
    RemoteSql(remote_, sql, out, id);
  }
  void Cancel() override {
    std::string id;
    {
      std::lock_guard<std::mutex> lock(mu_);
      id = running_;
    }
    if (!id.empty()) CancelRemote(remote_, id);
  }
  std::vector<std::string> Names() override {
    std::vector<std::string> names;
    auto dbs = CallApi(remote_, "GET", "/v1/databases");
    size_t tables = 0;
    for (auto& db : dbs["databases"]) {
      std::string d = db["name"];
      names.push_back(d);
      auto list = CallApi(remote_, "GET", "/v1/databases/" + d + "/tables");
      for (auto& t : list["tables"]) {
        std::string name = t["name"];
        names.push_back(d + "." + name);
        if (++tables > 200) continue;  // columns of the first 200 tables only: one call each
        auto table = CallApi(remote_, "GET", "/v1/databases/" + d + "/tables/" + name);
        for (auto& c : table["columns"]) names.push_back(c["name"]);
      }
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
  }
  std::string Describe() override {
    auto me = CallApi(remote_, "GET", "/v1/whoami");
    return "on " + remote_.server + " as " + me.value("user", std::string("?"));
  }

 private:
  RemoteOptions remote_;
  std::mutex mu_;
  std::string running_;
};

}  // namespace

bool WantsShell(const std::string& sql, const std::string& file) {
  return sql.empty() && file.empty() && isatty(STDIN_FILENO);
}

std::string ReadAll(std::istream& in) {
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The SQL to run: the argument, else --file, else standard input (not a terminal).
std::string ReadSqlInput(const std::string& sql, const std::string& file) {
  if (!file.empty()) {
    if (!sql.empty()) throw Error::InvalidArgument("give SQL either as an argument or with --file, not both");
    std::ifstream in(file);
    if (!in) throw Error::NotFound("cannot read SQL file {}", file);
    return ReadAll(in);
  }
  if (!sql.empty()) return sql;
  if (isatty(STDIN_FILENO)) {
    throw Error::InvalidArgument(
        "no SQL given: pass it as an argument, with --file FILE, or on standard input");
  }
  return ReadAll(std::cin);
}

int RunLocalSql(const session::InstanceOptions& options, const std::string& sql, const SqlOutput& out,
                const LocalCaller& caller, const std::function<void(session::RunRequest&)>& customize) {
  // Signals are blocked before the engine starts its threads, so that they all
  // inherit the mask and Ctrl-C reaches the guard instead of killing the process.
  std::atomic<session::Runner*> running{nullptr};
  InterruptGuard guard([&] {
    if (auto* r = running.load()) r->CancelAll(session::StopReason::kCancelled);
  });
  session::Instance instance(options);
  session::Runner runner(instance, LocalRunnerOptions());
  running = &runner;
  auto request = LocalRequest(instance, caller);
  if (customize) customize(request);
  int rc = RunScript(runner, request, sql, out);
  running = nullptr;
  return rc;
}

int RunLocalShell(const session::InstanceOptions& options, const SqlOutput& out, const LocalCaller& caller) {
  // The engine's threads start with SIGINT blocked; only this thread takes it.
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, &old);
  session::Instance instance(options);
  session::Runner runner(instance, LocalRunnerOptions());
  LocalBackend backend(instance, runner, LocalRequest(instance, caller));
  ShellInterrupts interrupts;
  int rc = RunShell(backend, out, interrupts);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return rc;
}

int RunRemoteShell(const RemoteOptions& remote, const SqlOutput& out) {
  RemoteShellBackend backend(remote);
  ShellInterrupts interrupts;
  return RunShell(backend, out, interrupts);
}

}  // namespace tarn::cli
