#include "scale/slurm_executor.h"

#include <fmt/format.h>

#include <fstream>
#include <set>
#include <thread>

#include "common/error.h"
#include "common/util.h"
#include "scale/partition_plan.h"

namespace tarn::scale {

namespace fs = std::filesystem;

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

// A task of a stage while it runs.
struct StageTask {
  std::string name;
  fs::path dir;
  std::string job;                    // the Slurm job (or array task, "123_4") running it
  std::vector<std::string> excluded;  // nodes it failed on
  int64_t submissions = 0;
  std::optional<nlohmann::json> report;
  std::chrono::steady_clock::time_point node_fail_since = std::chrono::steady_clock::time_point::max();
};

// One attempt of one run: its queries become Slurm jobs, a query split by key a
// stage of jobs each (partition_plan.h).
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
    for (auto& task : posted_) x_.board().Remove(run_.id, task);
    std::error_code ec;
    fs::remove_all(dir_, ec);
    std::set<std::string> unreachable;  // a node that failed once is not asked again
    for (auto& files : node_files_) {
      try {
        if (unreachable.count(files.value("url", ""))) throw Error::Io("its node could not be reached");
        if (x_.options().remove_node_files) x_.options().remove_node_files(files);
      } catch (const std::exception& e) {
        unreachable.insert(files.value("url", ""));
        hooks_.note(
            fmt::format("shuffle files {} left on their node (its file service removes them later): {}",
                        files.value("dir", "?"), e.what()));
      }
    }
  }

  bool MaySplit() const override { return app_.executor.buckets != 1; }
  size_t MapParts() const override {
    return static_cast<size_t>(std::max<int64_t>(app_.executor.max_nodes, 1));
  }

  fs::path SharedFile(const std::string& name) override {
    fs::path dir = dir_ / "server";
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw Error::Io("cannot make {}: {}", dir.string(), ec.message());
    return dir / name;
  }

  void RunsHere(const session::PlannedQuery& q, const std::string& why) override {
    hooks_.note(fmt::format("statement {} runs on the server: {}", q.index + 1, why));
  }

  session::OffloadedResult Run(const session::PlannedQuery& q,
                               const std::function<bool()>& stopped) override {
    if (auto done = ahead_.find(session::Fingerprint(q)); done != ahead_.end()) {
      auto [with, result] = std::move(done->second);
      ahead_.erase(done);
      hooks_.note(fmt::format("statement {}: computed in the buckets of statement {}, over the same shuffle",
                              q.index + 1, with + 1));
      return result;
    }
    std::string prefix = fmt::format("t{}", ++queries_);
    int64_t buckets = BucketsFor(q);
    if (buckets <= 1 && (!q.partition_keys.empty() || !q.parts_key.empty()))
      hooks_.note(fmt::format("statement {}: one bucket, not split", q.index + 1));
    if (buckets <= 1) return RunWhole(q, prefix, stopped);
    PartitionPlan plan(q, buckets, dir_, prefix, MapParts());
    if (plan.buckets() < 2) return RunWhole(q, prefix, stopped);  // a table of one file: one part
    return RunSplit(q, plan, prefix, stopped);
  }

 private:
  // The query as one task.
  session::OffloadedResult RunWhole(const session::PlannedQuery& q, const std::string& prefix,
                                    const std::function<bool()>& stopped) {
    auto files = nlohmann::json::array();
    for (auto& [file, table] : q.reads.files) files.push_back({{"path", file}, {"table", table}});
    PlannedTask task{prefix,
                     {{"sql", q.sql},
                      {"scans", q.reads.scans},
                      {"files", files},
                      {"output", (dir_ / prefix / "result.parquet").string()}}};
    auto reports = RunStage(fmt::format("statement {}", q.index + 1), "", Results(q, {task}), stopped);
    return {dir_ / prefix / "result.parquet", reports[0].value("rows", int64_t{0}), {}};
  }

  // The query split by `plan`: its map stage (reusing the run's shuffle files where it
  // can), its buckets, and a merge unless the buckets' results are the rows.
  session::OffloadedResult RunSplit(const session::PlannedQuery& q, PartitionPlan& plan,
                                    const std::string& prefix, const std::function<bool()>& stopped) {
    if (q.parts_key.empty())
      hooks_.note(fmt::format("statement {}: split by key into {} buckets", q.index + 1, plan.buckets()));
    else
      hooks_.note(fmt::format("statement {}: split into {} parts of {}'s files", q.index + 1, plan.buckets(),
                              q.parts_key));
    std::string label = fmt::format("statement {} ", q.index + 1);
    // A table an earlier statement of the run mapped alike (the same governed scan, key
    // and buckets: a reconciliation's steps over the same inputs) is not mapped again.
    size_t reused = 0;
    for (size_t m = 0; m < plan.Maps(); m++) {
      if (auto it = shuffles_.find(plan.MapIdentity(m)); it != shuffles_.end())
        plan.ReuseMap(m, it->second.first, it->second.second), reused++;
    }
    if (reused > 0)
      hooks_.note(fmt::format("statement {}: {} of {} map tasks reuse an earlier statement's shuffle files",
                              q.index + 1, reused, plan.Maps()));
    RunMaps(plan, plan.MapTasks(), label + "map", prefix + ".m", stopped);
    if (reused < plan.Maps()) {
      size_t on_nodes = 0;
      for (size_t m = 0; m < plan.Maps(); m++) on_nodes += !plan.NodeFiles(m).is_null();
      hooks_.note(fmt::format("statement {}: {} shuffled{}", q.index + 1, Bytes(plan.ShuffleBytes()),
                              on_nodes == plan.Maps() ? " (on the nodes' disks)"
                              : on_nodes > 0          ? " (partly on the nodes' disks)"
                                                      : ""));
    }
    auto counts = RunBuckets(q, plan, label, prefix, stopped);
    if (q.parts_ok && !plan.NeedsMerge()) {  // the buckets' results are the rows, together
      session::OffloadedResult out;
      for (auto& report : counts) out.rows += report.value("rows", int64_t{0});
      out.parts = plan.BucketResults();
      hooks_.note(fmt::format("statement {}: the {} buckets' results are its rows (no merge)", q.index + 1,
                              plan.buckets()));
      return out;
    }
    auto merge = plan.MergeTask();
    auto reports = RunStage(label + "merge", "", Results(q, {merge}), stopped);
    return {merge.body.at("output").get<std::string>(), reports[0].value("rows", int64_t{0}), {}};
  }

  // The buckets a split statement gets (1: not split).
  int64_t BucketsFor(const session::PlannedQuery& q) const {
    if (q.partition_keys.empty() && q.parts_key.empty()) return 1;
    return q.buckets > 0               ? q.buckets
           : app_.executor.buckets > 0 ? app_.executor.buckets
                                       : ChooseBuckets(InputBytes(q), Memory(), app_.executor.max_nodes);
  }

  // A later statement (PlannedQuery::with) computed in the bucket tasks of another:
  // split by the same keys into as many buckets, reading only the same map outputs.
  struct Companion {
    const session::PlannedQuery* query;
    std::unique_ptr<PartitionPlan> plan;
  };
  std::vector<Companion> CompanionsOf(const session::PlannedQuery& q, const PartitionPlan& plan,
                                      const std::string& prefix) const {
    std::set<std::string> maps;
    for (size_t m = 0; m < plan.Maps(); m++) maps.insert(plan.MapIdentity(m));
    std::vector<Companion> out;
    for (auto& c : q.with) {
      if (c.partition_keys.empty() || !c.parts_key.empty() || !c.parts_ok || BucketsFor(c) != plan.buckets())
        continue;
      try {
        auto p = std::make_unique<PartitionPlan>(c, plan.buckets(), dir_,
                                                 fmt::format("{}.w{}", prefix, c.index + 1), MapParts());
        bool same = p->buckets() == plan.buckets() && !p->NeedsMerge();
        for (size_t m = 0; same && m < p->Maps(); m++) same = maps.count(p->MapIdentity(m)) > 0;
        if (same) out.push_back({&c, std::move(p)});
      } catch (const Error&) {  // not splittable this way: at its turn
      }
    }
    return out;
  }

  // `companions`' bucket queries in `buckets`' bodies ("also", worker.h), fetching what
  // they read too.
  void AddCompanions(std::vector<PlannedTask>& buckets, std::vector<Companion>& companions) {
    for (auto& c : companions) {
      for (size_t m = 0; m < c.plan->Maps(); m++) {
        auto& [dir, node] = shuffles_.at(c.plan->MapIdentity(m));
        c.plan->ReuseMap(m, dir, node);
      }
      auto tasks = Results(*c.query, c.plan->BucketTasks());
      for (size_t b = 0; b < buckets.size() && b < tasks.size(); b++) {
        auto& body = buckets[b].body;
        auto& also = tasks[b].body;
        std::set<std::string> fetched;
        for (auto& f : body.value("fetch", nlohmann::json::array()))
          fetched.insert(f.at("path").get<std::string>());
        for (auto& f : also.value("fetch", nlohmann::json::array()))
          if (fetched.insert(f.at("path").get<std::string>()).second) body["fetch"].push_back(f);
        also.erase("fetch");
        body["also"].push_back(std::move(also));
      }
    }
  }

  // Runs `maps` (of `plan`) as a stage and keeps where their files are.
  void RunMaps(PartitionPlan& plan, std::vector<PlannedTask> maps, const std::string& label,
               const std::string& array_stem, const std::function<bool()>& stopped,
               const std::vector<std::string>& exclude = {}) {
    if (!x_.options().node_scratch.empty())
      for (auto& t : maps) t.body["node_scratch"] = x_.options().node_scratch;
    std::vector<std::string> names;
    for (auto& t : maps) names.push_back(t.name);
    auto reports =
        maps.empty() ? std::vector<nlohmann::json>{} : RunStage(label, array_stem, maps, stopped, exclude);
    for (size_t i = 0; i < reports.size(); i++) {
      auto m = plan.MapNamed(names[i]);
      if (!m) throw Error::Internal("map task {} is not of its plan", names[i]);
      if (reports[i].contains("node_files")) {
        reports[i]["node_files"]["node"] = reports[i].value("node", "");
        plan.SetNodeFiles(*m, reports[i]["node_files"]);
        node_files_.push_back(plan.NodeFiles(*m));
      }
    }
    for (size_t m = 0; m < plan.Maps(); m++)
      shuffles_.insert_or_assign(plan.MapIdentity(m), std::make_pair(plan.MapOutput(m), plan.NodeFiles(m)));
  }

  // The buckets of `plan`; when a bucket task could not fetch shuffle files from a
  // node (lost with it), the map tasks that wrote them run again, then the buckets.
  // Every map task's files on the node of a lost folder are taken as lost with it.
  std::vector<nlohmann::json> RunBuckets(const session::PlannedQuery& q, PartitionPlan& plan,
                                         const std::string& label, const std::string& prefix,
                                         const std::function<bool()>& stopped) {
    auto companions = CompanionsOf(q, plan, prefix);
    if (!companions.empty()) {
      std::string which;
      for (auto& c : companions) which += fmt::format("{}{}", which.empty() ? "" : ", ", c.query->index + 1);
      hooks_.note(fmt::format("{}buckets: statement{} {} computed in the same tasks, over the same shuffle",
                              label, companions.size() == 1 ? "" : "s", which));
    }
    for (int64_t tries = 1;; tries++) {
      lost_.clear();
      try {
        auto buckets = Results(q, plan.BucketTasks());
        AddCompanions(buckets, companions);
        for (auto& t : buckets)  // a file on the bucket's own node is read there
          if (t.body.contains("fetch")) t.body["node_scratch"] = x_.options().node_scratch;
        auto reports = RunStage(label + "buckets", prefix + ".b", std::move(buckets), stopped);
        for (size_t k = 0; k < companions.size(); k++) {
          session::OffloadedResult done{{}, 0, companions[k].plan->BucketResults()};
          for (auto& r : reports)
            done.rows += r.value("also", nlohmann::json::array()).at(k).value("rows", int64_t{0});
          ahead_[session::Fingerprint(*companions[k].query)] = {q.index, std::move(done)};
        }
        return reports;
      } catch (const Error&) {
        if (lost_.empty() || tries >= std::max<int64_t>(2, run_.max_attempts)) throw;
      }
      std::set<std::string> urls, again, names;
      for (size_t m = 0; m < plan.Maps(); m++) {
        const auto& node = plan.NodeFiles(m);
        if (!node.is_null() && lost_.count(node.value("dir", ""))) urls.insert(node.value("url", ""));
      }
      for (size_t m = 0; m < plan.Maps(); m++) {
        const auto& node = plan.NodeFiles(m);
        if (node.is_null() || !urls.count(node.value("url", ""))) continue;
        if (auto name = node.value("node", ""); !name.empty() && name != "local") names.insert(name);
        plan.Forget(m), again.insert(fmt::format("{}.m{}", prefix, m));
      }
      if (again.empty())
        throw Error::Io("{}: shuffle files were lost and no map task of it wrote them", label);
      std::vector<PlannedTask> maps;
      for (auto& t : plan.MapTasks())
        if (again.count(t.name)) maps.push_back(std::move(t));
      hooks_.note(
          fmt::format("{}buckets: the shuffle files of {} map task(s) were lost with their node: they "
                      "run again",
                      label, maps.size()));
      // Not on the nodes that lost them, while the run has others.
      std::vector<std::string> exclude(names.begin(), names.end());
      if (static_cast<int64_t>(exclude.size()) >= std::max<int64_t>(app_.executor.max_nodes, 1))
        exclude.clear();
      RunMaps(plan, std::move(maps), label + "map (again)", "", stopped, exclude);
    }
  }

  // Tasks that write the query's rows: with the field ids of the table they are for.
  static std::vector<PlannedTask> Results(const session::PlannedQuery& q, std::vector<PlannedTask> tasks) {
    if (!q.field_ids.empty())
      for (auto& t : tasks) t.body["field_ids"] = q.field_ids;
    return tasks;
  }
  static std::string Join(const std::vector<std::string>& v) {
    std::string out;
    for (auto& s : v) out += (out.empty() ? "" : ",") + s;
    return out;
  }
  static std::string Bytes(int64_t n) {
    return n >= (1 << 20) ? fmt::format("{:.1f} MiB", n / 1048576.0) : fmt::format("{} bytes", n);
  }
  int64_t Memory() const { return run_.memory_bytes > 0 ? run_.memory_bytes : int64_t{1} << 30; }
  static int64_t InputBytes(const session::PlannedQuery& q) {
    int64_t total = 0;
    for (auto& [file, table] : q.reads.files) {
      std::error_code ec;
      auto size = fs::file_size(file, ec);
      if (!ec) total += static_cast<int64_t>(size);
    }
    return total;
  }

  // Posts `task` to the board with its credential in its folder.
  StageTask Post(PlannedTask task) {
    StageTask t{task.name, dir_ / task.name, {}, {}, 0, std::nullopt, {}};
    fs::create_directories(t.dir);
    task.body["run"] = run_.id;
    task.body["task"] = task.name;
    task.body["attempt"] = run_.attempt;
    task.body["memory"] = Memory();
    task.body["threads"] = run_.threads > 0 ? run_.threads : 1;
    x_.board().Post(run_.id, task.name, std::move(task.body));
    posted_.push_back(task.name);
    auto ttl = app_.executor.time_limit_minutes > 0
                   ? std::chrono::minutes(app_.executor.time_limit_minutes + 10)
                   : x_.options().credential_ttl;
    auto credential = x_.signer().Sign(
        {run_.id, task.name, run_.attempt, run_.principal.user, run_.principal.issuer, run_.principal.role,
         EpochMillis() + std::chrono::duration_cast<std::chrono::milliseconds>(ttl).count()});
    WriteFileAtomic(t.dir / "credential", credential, 0600);
    return t;
  }

  SlurmJobRequest Request(const std::string& task, const std::vector<std::string>& excluded) const {
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
                 (dir_ / task / "credential").string()};
    if (!x_.options().ca_file.empty()) r.command.insert(r.command.end(), {"--cacert", x_.options().ca_file});
    r.partition = app_.executor.partition;
    r.account = app_.executor.account;
    r.qos = app_.executor.qos;
    r.time_limit_minutes = app_.executor.time_limit_minutes;
    r.exclude = excluded;
    r.output = dir_ / task / "worker.log";
    r.workdir = dir_;
    return r;
  }

  // Runs `planned` as one stage: one Slurm job, or (with an `array_stem`, the tasks
  // named stem0, stem1, ...) one job array, and waits for every task's report (in
  // order). A task whose worker ended without reporting (lost with its node, or
  // crashed) is submitted again on its own, not on the nodes it failed on, up to the
  // run's attempts; a task that reports a failure cancels the stage and throws it.
  std::vector<nlohmann::json> RunStage(const std::string& label, const std::string& array_stem,
                                       std::vector<PlannedTask> planned, const std::function<bool()>& stopped,
                                       const std::vector<std::string>& exclude = {}) {
    auto started = std::chrono::steady_clock::now();
    std::vector<StageTask> tasks;
    for (auto& p : planned) tasks.push_back(Post(std::move(p))), tasks.back().excluded = exclude;
    std::vector<std::string> jobs;  // every Slurm job of the stage, to cancel
    if (tasks.size() == 1 || array_stem.empty()) {
      for (auto& t : tasks)
        jobs.push_back(t.job = x_.slurm().Submit(Request(t.name, exclude))), t.submissions = 1;
    } else {
      auto r = Request(array_stem + "%a", exclude);
      r.name = "tarn-" + run_.id + "-" + array_stem;
      r.array_size = static_cast<int64_t>(tasks.size());
      r.max_parallel = app_.executor.max_nodes;
      auto array = x_.slurm().Submit(r);
      jobs.push_back(array);
      for (size_t i = 0; i < tasks.size(); i++)
        tasks[i].job = fmt::format("{}_{}", array, i), tasks[i].submissions = 1;
    }
    hooks_.note(fmt::format("{}: Slurm job{} {} submitted with {} ({} task{})", label,
                            jobs.size() > 1 ? "s" : "", Join(jobs), x_.slurm().Via(), tasks.size(),
                            tasks.size() == 1 ? "" : "s"));
    try {
      Wait(label, tasks, jobs, stopped);
    } catch (...) {
      for (auto& j : jobs) {
        try {
          x_.slurm().Cancel(j);
        } catch (const Error&) {
        }
      }
      throw;
    }
    std::vector<nlohmann::json> out;
    double slowest = 0;
    int64_t read = 0, written = 0, fetched = 0;
    for (auto& t : tasks) {
      fetched += t.report->value("fetched_bytes", int64_t{0});
      slowest = std::max(slowest, t.report->value("milliseconds", 0.0));
      read += t.report->value("read_bytes", int64_t{0});
      written += t.report->value("written_bytes", int64_t{0});
      out.push_back(*t.report);
    }
    hooks_.note(fmt::format(
        "{}: {} task{} ended in {:.0f} ms (slowest task {:.0f} ms); read {}, wrote {}{}", label, tasks.size(),
        tasks.size() == 1 ? "" : "s",
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count(),
        slowest, Bytes(read), Bytes(written),
        fetched > 0 ? fmt::format(", fetched {} from other nodes", Bytes(fetched)) : ""));
    return out;
  }

  // The record of `job` among `records` (an array task still pending is shown under
  // its array's record, "123_[0-3]" or "123_0-3").
  static const SlurmJob* RecordOf(const std::string& job, const std::vector<SlurmJob>& records) {
    for (auto& r : records)
      if (r.id == job) return &r;
    auto under = job.find('_');
    if (under == std::string::npos) return nullptr;
    for (auto& r : records) {
      if (r.id.starts_with(job.substr(0, under + 1)) &&
          r.id.find_first_not_of("0123456789", under + 1) != std::string::npos)
        return &r;
    }
    return nullptr;
  }

  void Wait(const std::string& label, std::vector<StageTask>& tasks, std::vector<std::string>& jobs,
            const std::function<bool()>& stopped) {
    std::string shown;
    auto next_look = std::chrono::steady_clock::now();
    for (;;) {
      if (stopped()) {
        hooks_.note(
            fmt::format("{}: Slurm job{} {} cancelled", label, jobs.size() > 1 ? "s" : "", Join(jobs)));
        throw Error(ErrorCode::kCancelled, "cancelled");
      }
      size_t done = 0;
      for (auto& t : tasks) {
        if (!t.report) {
          if (auto report = x_.board().TakeReport(run_.id, t.name)) Finish(t, *report);
        }
        done += t.report.has_value();
      }
      if (done == tasks.size()) return;
      if (std::chrono::steady_clock::now() >= next_look) {
        next_look = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        Look(label, tasks, jobs, shown);
      }
      std::this_thread::sleep_for(x_.options().poll);
    }
  }

  // Asks Slurm about the stage's jobs: shows their state and submits lost tasks again.
  void Look(const std::string& label, std::vector<StageTask>& tasks, std::vector<std::string>& jobs,
            std::string& shown) {
    std::map<std::string, std::vector<SlurmJob>> records;
    for (auto& j : jobs) records[j] = x_.slurm().Jobs(j);
    std::string details;
    std::map<std::string, int> states;
    const SlurmJob* one = nullptr;
    for (auto& t : tasks) {
      if (t.report) {
        states["REPORTED"]++;
        continue;
      }
      auto base = t.job.substr(0, t.job.find('_'));
      const SlurmJob* r = RecordOf(t.job, records[base]);
      if (!r) throw Error::Io("Slurm no longer knows job {} of task {}", t.job, t.name);
      one = r;
      states[r->state]++;
      auto now = std::chrono::steady_clock::now();
      bool node_failed = r->state == "NODE_FAIL";
      if (!node_failed) t.node_fail_since = std::chrono::steady_clock::time_point::max();
      if (node_failed && t.node_fail_since == std::chrono::steady_clock::time_point::max())
        t.node_fail_since = now;
      bool waited_out = node_failed && now - t.node_fail_since > std::chrono::seconds(30);
      if (r->Ended() && (!node_failed || waited_out)) {
        if (auto report = x_.board().TakeReport(run_.id, t.name)) {
          Finish(t, *report);
          continue;
        }
        Lost(label, t, *r, jobs);
      }
    }
    if (tasks.size() == 1 && one) {
      details = fmt::format("Slurm job {} {}", tasks[0].job, one->state);
      if (!one->reason.empty() && one->reason != "None") details += " (" + one->reason + ")";
      if (!one->nodes.empty()) details += " on " + one->nodes;
    } else {
      details = fmt::format("{}: Slurm job{} {}:", label, jobs.size() > 1 ? "s" : "", Join(jobs));
      for (auto& [state, n] : states) details += fmt::format(" {} {}", n, state);
    }
    if (details != shown) hooks_.details(shown = details);
  }

  // Task `t`'s job ended as `r` without a report: it runs again elsewhere, or fails the stage.
  void Lost(const std::string& label, StageTask& t, const SlurmJob& r, std::vector<std::string>& jobs) {
    std::string why = fmt::format(
        "the worker of task {} (Slurm job {}) ended {} with exit code {}{} without reporting: {}", t.name,
        t.job, r.state, r.exit_code, r.nodes.empty() ? "" : " on " + r.nodes, LastLine(t.dir / "worker.log"));
    if (t.submissions >= std::max<int64_t>(1, run_.max_attempts) || r.nodes.empty())
      throw Error::Io("{}", why);
    hooks_.note(why);
    t.excluded.push_back(r.nodes);
    t.job = x_.slurm().Submit(Request(t.name, t.excluded));
    t.submissions++;
    t.node_fail_since = std::chrono::steady_clock::time_point::max();
    jobs.push_back(t.job);
    hooks_.note(fmt::format("{}: task {} submitted again as Slurm job {}, not on {}", label, t.name, t.job,
                            Join(t.excluded)));
  }

  void Finish(StageTask& t, const nlohmann::json& report) {
    if (!report.value("ok", false)) {
      if (report.contains("lost") && report["lost"].is_array())
        for (auto& dir : report["lost"])
          if (dir.is_string()) lost_.insert(dir.get<std::string>());
      auto e = report.value("error", nlohmann::json::object());
      throw Error(CodeNamed(e.value("code", "internal")), e.value("message", "the task failed"));
    }
    hooks_.note(fmt::format("task {} ended on {}: {} rows in {:.0f} ms", t.name, report.value("node", "?"),
                            report.value("rows", int64_t{0}), report.value("milliseconds", 0.0)));
    t.report = report;
  }

  SlurmExecutor& x_;
  jobs::Application app_;
  jobs::JobRun run_;
  jobs::RunHooks hooks_;
  fs::path dir_;
  std::vector<std::string> posted_;
  int64_t queries_ = 0;
  // map tasks' identities -> their files (the run's): their folder, or where on a node
  std::map<std::string, std::pair<fs::path, nlohmann::json>> shuffles_;
  std::vector<nlohmann::json> node_files_;  // the files map tasks wrote on nodes, removed at the end
  std::set<std::string> lost_;              // node folders a bucket task could not fetch from
  // Later statements computed with an earlier one (PlannedQuery::with), by their
  // fingerprint: that statement's index and their rows.
  std::map<std::string, std::pair<size_t, session::OffloadedResult>> ahead_;
};

}  // namespace

SlurmExecutor::SlurmExecutor(SlurmExecutorOptions options, std::string signing_key)
    : options_(std::move(options)),
      signer_(std::move(signing_key)),
      slurm_(std::chrono::seconds(30), options_.rest_socket) {}

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
