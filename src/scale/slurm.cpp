#include "scale/slurm.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>

#include "common/error.h"
#include "scale/process.h"
#include "scale/slurm_rest.h"

namespace tarn::scale {

namespace {

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

// A Slurm name (node, partition, account, QOS, job name): refuses anything that could
// be read as more than one name or an option.
void CheckName(const std::string& value, const char* what) {
  bool ok = !value.empty() && value.size() <= 128 && value[0] != '-';
  for (char c : value) ok = ok && IsNameChar(c);
  if (!ok)
    throw Error::InvalidArgument("{} '{}' is not a Slurm name (letters, digits, '-', '_', '.')", what,
                                 value.substr(0, 64));
}

// "Key=Value Key2=Value2 ..." of `scontrol show ... -o` (one line): the values of
// the keys wanted. A value runs to the next " Key=" of a known shape.
std::map<std::string, std::string> Fields(const std::string& line) {
  std::map<std::string, std::string> out;
  std::istringstream words(line);
  std::string word, key;
  while (words >> word) {
    auto eq = word.find('=');
    if (eq != std::string::npos && eq > 0 && std::isupper(static_cast<unsigned char>(word[0]))) {
      key = word.substr(0, eq);
      out[key] = word.substr(eq + 1);
    } else if (!key.empty()) {
      out[key] += " " + word;  // a value with spaces (Reason=Not responding)
    }
  }
  return out;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

SlurmJob JobFrom(const std::map<std::string, std::string>& f) {
  auto get = [&](const char* k) {
    auto it = f.find(k);
    return it == f.end() ? std::string() : it->second;
  };
  SlurmJob job;
  job.id = get("JobId");
  if (!get("ArrayJobId").empty() && !get("ArrayTaskId").empty())
    job.id = get("ArrayJobId") + "_" + get("ArrayTaskId");
  job.state = get("JobState");
  job.reason = get("Reason");
  job.nodes = get("NodeList") == "(null)" ? "" : get("NodeList");
  auto exit = get("ExitCode");
  try {
    job.exit_code = exit.empty() ? 0 : std::stoll(exit.substr(0, exit.find(':')));
    job.restarts = get("Restarts").empty() ? 0 : std::stoll(get("Restarts"));
  } catch (const std::exception&) {
    throw Error::Io("scontrol gave an unreadable job record for {}", job.id);
  }
  return job;
}

}  // namespace

bool SlurmJob::Ended() const {
  return state != "PENDING" && state != "RUNNING" && state != "CONFIGURING" && state != "COMPLETING" &&
         state != "SUSPENDED" && state != "REQUEUED" && state != "REQUEUE_HOLD" && state != "REQUEUE_FED" &&
         state != "RESIZING" && state != "SIGNALING" && state != "STAGE_OUT";
}

bool SlurmNode::Has(const std::string& flag) const {
  std::istringstream parts(state);
  for (std::string p; std::getline(parts, p, '+');)
    if (p == flag) return true;
  return false;
}

std::string ShellQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

SlurmClient::SlurmClient(std::chrono::milliseconds timeout, const std::filesystem::path& rest_socket)
    : timeout_(timeout) {
  if (!rest_socket.empty()) rest_ = std::make_shared<const SlurmRest>(rest_socket, timeout);
}

std::string SlurmClient::Submit(const SlurmJobRequest& r) const {
  CheckName(r.name, "job name");
  if (r.command.empty() || r.command[0].empty() || r.command[0][0] != '/')
    throw Error::InvalidArgument("a Slurm job runs a program named by an absolute path");
  if (!r.partition.empty()) CheckName(r.partition, "partition");
  if (!r.account.empty()) CheckName(r.account, "account");
  if (!r.qos.empty()) CheckName(r.qos, "QOS");
  for (auto& n : r.exclude) CheckName(n, "node");
  if (rest_) return rest_->Submit(r);
  std::vector<std::string> argv{"sbatch", "--parsable", "--export=NONE", "--requeue", "--job-name=" + r.name};
  if (!r.partition.empty()) argv.push_back("--partition=" + r.partition);
  if (!r.account.empty()) argv.push_back("--account=" + r.account);
  if (!r.qos.empty()) argv.push_back("--qos=" + r.qos);
  if (r.time_limit_minutes > 0) argv.push_back(fmt::format("--time={}", r.time_limit_minutes));
  if (r.array_size > 0) {
    std::string spec = fmt::format("--array=0-{}", r.array_size - 1);
    if (r.max_parallel > 0) spec += fmt::format("%{}", r.max_parallel);
    argv.push_back(spec);
  }
  if (!r.exclude.empty()) {
    std::string list;
    for (auto& n : r.exclude) list += (list.empty() ? "" : ",") + n;
    argv.push_back("--exclude=" + list);
  }
  if (!r.output.empty()) argv.push_back("--output=" + r.output.string());
  if (!r.workdir.empty()) argv.push_back("--chdir=" + r.workdir.string());
  std::string script = "exec";
  for (auto& a : r.command) script += " " + ShellQuote(a);
  argv.push_back("--wrap=" + script);
  auto out = RunProgramChecked(argv, timeout_);
  std::string id = out.substr(0, out.find_first_of(";\n"));
  if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos)
    throw Error::Io("sbatch answered '{}' instead of a job id", out.substr(0, 64));
  return id;
}

std::vector<SlurmJob> SlurmClient::Jobs(const std::string& id) const {
  if (rest_) return rest_->Jobs(id);
  auto r = RunProgram({"scontrol", "show", "job", "-o", id}, timeout_);
  if (r.exit_code != 0) {
    if (r.err.find("Invalid job id") != std::string::npos) return {};
    throw Error::Io("scontrol show job {} failed: {}", id, r.err.substr(0, r.err.find('\n')));
  }
  std::vector<SlurmJob> out;
  for (auto& line : Lines(r.out)) out.push_back(JobFrom(Fields(line)));
  return out;
}

void SlurmClient::Cancel(const std::string& id) const {
  if (rest_) return rest_->Cancel(id);
  RunProgramChecked({"scancel", id}, timeout_);
}

void SlurmClient::Requeue(const std::string& id) const {
  RunProgramChecked({"scontrol", "requeue", id}, timeout_);
}

std::vector<std::string> SlurmClient::JobsOn(const std::string& node) const {
  CheckName(node, "node");
  return Lines(
      RunProgramChecked({"squeue", "-h", "-t", "RUNNING,CONFIGURING", "-w", node, "-o", "%i"}, timeout_));
}

std::vector<SlurmNode> SlurmClient::Nodes(const std::string& partition) const {
  std::vector<std::string> argv{"scontrol", "show", "node", "-o"};
  std::vector<SlurmNode> out;
  std::vector<std::string> names;
  if (!partition.empty()) {
    CheckName(partition, "partition");
    names = Lines(RunProgramChecked({"sinfo", "-h", "-N", "-p", partition, "-o", "%N"}, timeout_));
  }
  for (auto& line : Lines(RunProgramChecked(argv, timeout_))) {
    auto f = Fields(line);
    SlurmNode n{f["NodeName"], f["State"], f.count("Reason") ? f["Reason"] : ""};
    if (auto at = n.reason.find(" ["); at != std::string::npos) n.reason.resize(at);  // "why [user@time]"
    if (partition.empty() || std::find(names.begin(), names.end(), n.name) != names.end()) out.push_back(n);
  }
  return out;
}

SlurmNode SlurmClient::Node(const std::string& name) const {
  CheckName(name, "node");
  for (auto& n : Nodes())
    if (n.name == name) return n;
  throw Error::NotFound("Slurm has no node {}", name);
}

void SlurmClient::Drain(const std::string& node, const std::string& reason) const {
  CheckName(node, "node");
  RunProgramChecked({"scontrol", "update", "nodename=" + node, "state=drain", "reason=" + reason}, timeout_);
}

int64_t SlurmClient::PendingTasks(const std::string& partition) const {
  CheckName(partition, "partition");
  return static_cast<int64_t>(
      Lines(RunProgramChecked({"squeue", "-h", "-r", "-p", partition, "-t", "PENDING", "-o", "%i"}, timeout_))
          .size());
}

void SlurmClient::PowerUp(const std::string& node) const {
  CheckName(node, "node");
  RunProgramChecked({"scontrol", "update", "nodename=" + node, "state=power_up"}, timeout_);
}

void SlurmClient::PowerDown(const std::string& node) const {
  CheckName(node, "node");
  RunProgramChecked({"scontrol", "update", "nodename=" + node, "state=power_down"}, timeout_);
}

void SlurmClient::Resume(const std::string& node) const {
  CheckName(node, "node");
  RunProgramChecked({"scontrol", "update", "nodename=" + node, "state=resume"}, timeout_);
}

}  // namespace tarn::scale
