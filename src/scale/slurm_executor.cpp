#include "scale/slurm_executor.h"

#include <fmt/format.h>

#include <fstream>
#include <thread>

#include "common/error.h"
#include "common/util.h"

namespace tarn::scale {

namespace fs = std::filesystem;

// --- TaskBoard ------------------------------------------------------------------

void TaskBoard::Post(const std::string& run, const std::string& task, nlohmann::json body) {
  std::lock_guard lock(mu_);
  entries_[{run, task}] = {std::move(body), std::nullopt};
}

std::optional<nlohmann::json> TaskBoard::Task(const std::string& run, const std::string& task) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find({run, task});
  if (it == entries_.end()) return std::nullopt;
  return it->second.task;
}

void TaskBoard::Report(const std::string& run, const std::string& task, nlohmann::json report) {
  std::lock_guard lock(mu_);
  auto it = entries_.find({run, task});
  if (it == entries_.end()) throw Error::NotFound("task {} of run {} has ended", task, run);
  it->second.report = std::move(report);
}

std::optional<nlohmann::json> TaskBoard::TakeReport(const std::string& run, const std::string& task) {
  std::lock_guard lock(mu_);
  auto it = entries_.find({run, task});
  if (it == entries_.end() || !it->second.report) return std::nullopt;
  auto out = std::move(*it->second.report);
  it->second.report.reset();
  return out;
}

void TaskBoard::Remove(const std::string& run, const std::string& task) {
  std::lock_guard lock(mu_);
  entries_.erase({run, task});
}

namespace {

ErrorCode CodeNamed(const std::string& name) {
  for (auto c :
       {ErrorCode::kInvalidArgument, ErrorCode::kNotFound, ErrorCode::kAlreadyExists, ErrorCode::kConflict,
        ErrorCode::kUnauthenticated, ErrorCode::kPermissionDenied, ErrorCode::kUnsupported,
        ErrorCode::kResourceExhausted, ErrorCode::kCancelled, ErrorCode::kIo}) {
    if (ErrorCodeName(c) == name) return c;
  }
  return ErrorCode::kInternal;
}

// The last non-empty line of a worker's log (what it said before it ended).
std::string LastLine(const fs::path& log) {
  std::ifstream f(log);
  std::string line, last;
  while (std::getline(f, line))
    if (!line.empty()) last = line;
  return last.empty() ? "its log is empty" : last.substr(0, 500);
}

// One attempt of one run: its queries become Slurm jobs.
class SlurmOffload : public session::QueryOffload {
 public:
  SlurmOffload(SlurmExecutor& executor, jobs::Application app, jobs::JobRun run, jobs::RunHooks hooks)
      : x_(executor), app_(std::move(app)), run_(std::move(run)), hooks_(std::move(hooks)) {
    dir_ = x_.options().lake_root / "_tarn" / "scratch" / fmt::format("{}.{}", run_.id, run_.attempt);
    std::error_code ec;
    fs::remove_all(dir_, ec);  // an earlier life of this attempt's
    fs::create_directories(dir_, ec);
    if (ec) throw Error::Io("cannot make the run's scratch folder {}: {}", dir_.string(), ec.message());
    fs::permissions(dir_, fs::perms::owner_all, ec);
  }
  ~SlurmOffload() override {
    for (auto& task : tasks_) x_.board().Remove(run_.id, task);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void RunsHere(const session::PlannedQuery& q, const std::string& why) override {
    hooks_.note(fmt::format("statement {} runs on the server: {}", q.index + 1, why));
  }

  session::OffloadedResult Run(const session::PlannedQuery& q,
                               const std::function<bool()>& stopped) override {
    std::string task = fmt::format("t{}", tasks_.size() + 1);
    tasks_.push_back(task);
    auto dir = dir_ / task;
    fs::create_directories(dir);
    auto files = nlohmann::json::array();
    for (auto& [file, table] : q.reads.files) files.push_back({{"path", file}, {"table", table}});
    x_.board().Post(run_.id, task,
                    {{"run", run_.id},
                     {"task", task},
                     {"attempt", run_.attempt},
                     {"sql", q.sql},
                     {"scans", q.reads.scans},
                     {"files", files},
                     {"output", (dir / "result.parquet").string()},
                     {"memory", run_.memory_bytes > 0 ? run_.memory_bytes : int64_t{1} << 30},
                     {"threads", run_.threads > 0 ? run_.threads : 1}});
    auto ttl = app_.executor.time_limit_minutes > 0
                   ? std::chrono::minutes(app_.executor.time_limit_minutes + 10)
                   : x_.options().credential_ttl;
    auto credential = x_.signer().Sign(
        {run_.id, task, run_.attempt, run_.principal.user, run_.principal.issuer, run_.principal.role,
         EpochMillis() + std::chrono::duration_cast<std::chrono::milliseconds>(ttl).count()});
    WriteFileAtomic(dir / "credential", credential, 0600);
    // A worker lost with its node (or crashed) is tried again on another node, up to
    // the run's attempts; Slurm itself requeues what a failed or drained node ran.
    std::vector<std::string> excluded;
    for (int64_t attempt = 1;; attempt++) {
      auto job = Submit(task, dir, excluded);
      hooks_.note(fmt::format("statement {}: Slurm job {} submitted (task {}{})", q.index + 1, job, task,
                              excluded.empty() ? "" : ", not on " + Join(excluded)));
      Lost lost;
      if (auto result = Wait(task, job, dir, stopped, lost)) return *result;
      std::string why = fmt::format(
          "the worker of task {} (Slurm job {}) ended {} with exit code {}{} without reporting: {}", task,
          job, lost.state, lost.exit_code, lost.nodes.empty() ? "" : " on " + lost.nodes,
          LastLine(dir / "worker.log"));
      if (attempt >= std::max<int64_t>(1, run_.max_attempts) || lost.nodes.empty())
        throw Error::Io("{}", why);
      hooks_.note(why);
      excluded.push_back(lost.nodes);
    }
  }

 private:
  // How a task's Slurm job ended without a report.
  struct Lost {
    std::string state;
    int64_t exit_code = 0;
    std::string nodes;
  };

  static std::string Join(const std::vector<std::string>& v) {
    std::string out;
    for (auto& s : v) out += (out.empty() ? "" : ",") + s;
    return out;
  }

  std::string Submit(const std::string& task, const fs::path& dir, const std::vector<std::string>& excluded) {
    SlurmJobRequest r;
    r.name = "tarn-" + run_.id + "-" + task;
    r.command = {x_.options().worker_program.string(),
                 "worker",
                 "--server",
                 x_.options().server_url(),
                 "--run",
                 run_.id,
                 "--task",
                 task,
                 "--credential-file",
                 (dir / "credential").string()};
    if (!x_.options().ca_file.empty()) r.command.insert(r.command.end(), {"--cacert", x_.options().ca_file});
    r.partition = app_.executor.partition;
    r.account = app_.executor.account;
    r.qos = app_.executor.qos;
    r.time_limit_minutes = app_.executor.time_limit_minutes;
    r.exclude = excluded;
    r.output = dir / "worker.log";
    r.workdir = dir;
    return x_.slurm().Submit(r);
  }

  // Follows `job` until its worker reports (the result) or it ends without a report
  // (nullopt, `lost` says how). A node failure Slurm requeues from is waited out.
  std::optional<session::OffloadedResult> Wait(const std::string& task, const std::string& job,
                                               const fs::path& dir, const std::function<bool()>& stopped,
                                               Lost& lost) {
    std::string shown;
    auto next_look = std::chrono::steady_clock::now();
    auto node_fail_since = std::chrono::steady_clock::time_point::max();  // max: no node failure seen
    for (;;) {
      if (stopped()) {
        x_.slurm().Cancel(job);
        hooks_.note(fmt::format("Slurm job {} cancelled", job));
        throw Error(ErrorCode::kCancelled, "cancelled");
      }
      if (auto report = x_.board().TakeReport(run_.id, task)) return Finish(*report, dir);
      if (std::chrono::steady_clock::now() >= next_look) {
        next_look = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        auto jobs = x_.slurm().Jobs(job);
        if (jobs.empty()) throw Error::Io("Slurm no longer knows job {} of task {}", job, task);
        auto& j = jobs[0];
        std::string details = fmt::format("Slurm job {} {}", job, j.state);
        if (!j.reason.empty() && j.reason != "None") details += " (" + j.reason + ")";
        if (!j.nodes.empty()) details += " on " + j.nodes;
        if (details != shown) hooks_.details(shown = details);
        bool node_failed = j.state == "NODE_FAIL";
        auto now = std::chrono::steady_clock::now();
        if (!node_failed) node_fail_since = std::chrono::steady_clock::time_point::max();
        if (node_failed && node_fail_since == std::chrono::steady_clock::time_point::max())
          node_fail_since = now;
        bool waited_out = node_failed && now - node_fail_since > std::chrono::seconds(30);
        if (j.Ended() && (!node_failed || waited_out)) {
          if (auto report = x_.board().TakeReport(run_.id, task)) return Finish(*report, dir);
          lost = {j.state, j.exit_code, j.nodes};
          return std::nullopt;
        }
      }
      std::this_thread::sleep_for(x_.options().poll);
    }
  }

  session::OffloadedResult Finish(const nlohmann::json& report, const fs::path& dir) {
    if (!report.value("ok", false)) {
      auto e = report.value("error", nlohmann::json::object());
      throw Error(CodeNamed(e.value("code", "internal")), e.value("message", "the task failed"));
    }
    hooks_.note(fmt::format("task ended on {}: {} rows in {:.0f} ms", report.value("node", "?"),
                            report.value("rows", int64_t{0}), report.value("milliseconds", 0.0)));
    return {dir / "result.parquet", report.value("rows", int64_t{0})};
  }

  SlurmExecutor& x_;
  jobs::Application app_;
  jobs::JobRun run_;
  jobs::RunHooks hooks_;
  fs::path dir_;
  std::vector<std::string> tasks_;
};

}  // namespace

SlurmExecutor::SlurmExecutor(SlurmExecutorOptions options, std::string signing_key)
    : options_(std::move(options)), signer_(std::move(signing_key)) {}

std::shared_ptr<session::QueryOffload> SlurmExecutor::Start(const jobs::Application& app,
                                                            const jobs::JobRun& run, jobs::RunHooks hooks) {
  return std::make_shared<SlurmOffload>(*this, app, run, std::move(hooks));
}

nlohmann::json SlurmExecutor::FetchTask(const std::string& run, const std::string& task,
                                        const std::string& credential) {
  signer_.Verify(credential, run, task, EpochMillis());
  auto body = board_.Task(run, task);
  if (!body) throw Error::NotFound("task {} of run {} has ended", task, run);
  return *body;
}

void SlurmExecutor::Report(const std::string& run, const std::string& task, const std::string& credential,
                           nlohmann::json report) {
  signer_.Verify(credential, run, task, EpochMillis());
  board_.Report(run, task, std::move(report));
}

}  // namespace tarn::scale
