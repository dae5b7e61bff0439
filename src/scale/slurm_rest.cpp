#include "scale/slurm_rest.h"

#include <fmt/format.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>

#include "common/error.h"

namespace tarn::scale {

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using Local = asio::local::stream_protocol;
using nlohmann::json;

constexpr const char* kApi = "/slurm/v0.0.38";

// Slurm's first error of an answer ("" if none): "error: description".
std::string FirstError(const json& answer) {
  auto it = answer.find("errors");
  if (it == answer.end() || !it->is_array() || it->empty()) return "";
  auto& e = (*it)[0];
  std::string out = e.value("error", std::string());
  std::string more = e.value("description", std::string());
  if (!more.empty() && more != out) out += (out.empty() ? "" : ": ") + more;
  return out.empty() ? e.dump().substr(0, 200) : out;
}

// A job id as Tarn writes them: 123 or 123_4 (never anything a URL could read as more).
void CheckJobId(const std::string& id) {
  auto digits = [](const std::string& s) {
    return !s.empty() && s.size() <= 20 && s.find_first_not_of("0123456789") == std::string::npos;
  };
  auto bar = id.find('_');
  bool ok = bar == std::string::npos ? digits(id) : digits(id.substr(0, bar)) && digits(id.substr(bar + 1));
  if (!ok) throw Error::InvalidArgument("'{}' is not a Slurm job id", id.substr(0, 64));
}

int64_t Int(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

SlurmJob JobFrom(const json& j) {
  SlurmJob job;
  int64_t array = Int(j, "array_job_id");
  auto task = j.find("array_task_id");
  std::string pending = j.value("array_task_string", std::string());
  if (array > 0 && task != j.end() && task->is_number_integer())
    job.id = fmt::format("{}_{}", array, task->get<int64_t>());
  else if (array > 0 && !pending.empty())
    job.id = fmt::format("{}_{}", array, pending);  // tasks not yet started: 123_2-3%2, as scontrol
  else
    job.id = std::to_string(Int(j, "job_id"));
  job.state = j.value("job_state", std::string());
  job.reason = j.value("state_reason", std::string());
  job.nodes = j.value("nodes", std::string());
  int64_t status = Int(j, "exit_code");  // a wait status: the exit code, or the signal
  job.exit_code = (status & 0x7f) ? 0 : (status >> 8) & 0xff;
  job.restarts = Int(j, "restart_cnt");
  return job;
}

// One request to the daemon; its answer's JSON.
json Call(const std::filesystem::path& socket, std::chrono::milliseconds timeout, http::verb verb,
          const std::string& target, const std::string& body) {
  asio::io_context io;
  Local::socket stream(io);
  http::request<http::string_body> request{verb, target, 11};
  request.set(http::field::host, "localhost");
  request.keep_alive(false);
  if (!body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = body;
  }
  request.prepare_payload();
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> response;
  response.body_limit(64 << 20);
  std::optional<boost::system::error_code> done;
  stream.async_connect(Local::endpoint(socket.string()), [&](boost::system::error_code ec) {
    if (ec) return void(done = ec);
    http::async_write(stream, request, [&](boost::system::error_code ec, size_t) {
      if (ec) return void(done = ec);
      http::async_read(stream, buffer, response, [&](boost::system::error_code ec, size_t) { done = ec; });
    });
  });
  io.run_for(timeout);
  if (!done)
    throw Error::Io("slurmrestd at {} did not answer within {} s", socket.string(), timeout.count() / 1000);
  if (*done) throw Error::Io("cannot reach slurmrestd at {}: {}", socket.string(), done->message());
  json answer = json::parse(response.get().body(), nullptr, false);
  if (answer.is_discarded() || !answer.is_object())
    throw Error::Io("slurmrestd answered {} {} with no JSON document", response.get().result_int(), target);
  return answer;
}

}  // namespace

SlurmRest::SlurmRest(std::filesystem::path socket, std::chrono::milliseconds timeout)
    : socket_(std::move(socket)), timeout_(timeout) {}

std::string SlurmRest::Submit(const SlurmJobRequest& r) const {
  std::string script = "#!/bin/sh\nexec";
  for (auto& a : r.command) script += " " + ShellQuote(a);
  json job = {{"name", r.name},
              {"requeue", true},
              {"environment", {{"PATH", "/usr/local/bin:/usr/bin:/bin"}}},
              {"current_working_directory", r.workdir.empty() ? "/" : r.workdir.string()}};
  if (!r.partition.empty()) job["partition"] = r.partition;
  if (!r.account.empty()) job["account"] = r.account;
  if (!r.qos.empty()) job["qos"] = r.qos;
  if (r.time_limit_minutes > 0) job["time_limit"] = r.time_limit_minutes;
  if (r.array_size > 0) {
    std::string spec = fmt::format("0-{}", r.array_size - 1);
    if (r.max_parallel > 0) spec += fmt::format("%{}", r.max_parallel);
    job["array"] = spec;
  }
  std::string exclude;
  for (auto& n : r.exclude) exclude += (exclude.empty() ? "" : ",") + n;
  if (!exclude.empty()) job["exclude_nodes"] = exclude;
  job["standard_output"] = r.output.empty() ? "/dev/null" : r.output.string();
  auto answer = Call(socket_, timeout_, http::verb::post, std::string(kApi) + "/job/submit",
                     json{{"job", job}, {"script", script}}.dump());
  if (auto error = FirstError(answer); !error.empty())
    throw Error::Io("slurmrestd refused the job: {}", error);
  int64_t id = Int(answer, "job_id");
  if (id <= 0) throw Error::Io("slurmrestd answered the submission without a job id");
  return std::to_string(id);
}

std::vector<SlurmJob> SlurmRest::Jobs(const std::string& id) const {
  CheckJobId(id);
  auto answer = Call(socket_, timeout_, http::verb::get, std::string(kApi) + "/job/" + id, "");
  if (auto error = FirstError(answer); !error.empty()) {
    if (error.find("Invalid job id") != std::string::npos) return {};
    throw Error::Io("slurmrestd could not show job {}: {}", id, error);
  }
  std::vector<SlurmJob> out;
  if (auto it = answer.find("jobs"); it != answer.end() && it->is_array())
    for (auto& j : *it) out.push_back(JobFrom(j));
  std::sort(out.begin(), out.end(), [](const SlurmJob& a, const SlurmJob& b) {
    return a.id.size() != b.id.size() ? a.id.size() < b.id.size() : a.id < b.id;
  });
  return out;
}

void SlurmRest::Cancel(const std::string& id) const {
  CheckJobId(id);
  auto answer = Call(socket_, timeout_, http::verb::delete_, std::string(kApi) + "/job/" + id, "");
  auto error = FirstError(answer);
  if (!error.empty() && error.find("already complet") == std::string::npos)
    throw Error::Io("slurmrestd could not cancel job {}: {}", id, error);
}

}  // namespace tarn::scale
