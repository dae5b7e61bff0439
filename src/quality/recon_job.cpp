#include "quality/recon_job.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "common/error.h"
#include "engine/engine.h"
#include "quality/runner_probe.h"
#include "session/upload.h"

namespace tarn::quality {

std::string ApplyParams(const std::string& text, const std::map<std::string, std::string>& params) {
  for (auto& [name, value] : params) {
    bool ok = !value.empty() && value.size() <= 256 && std::all_of(value.begin(), value.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) ||
             std::string(" -_.:/").find(c) != std::string::npos;
    });
    if (!ok)
      throw Error::InvalidArgument(
          "parameter '{}': a value is 1 to 256 of letters, digits, space and - _ . : /", name.substr(0, 64));
  }
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t at = text.find("${", i);
    if (at == std::string::npos) break;
    size_t end = text.find('}', at);
    if (end == std::string::npos) break;
    std::string name = text.substr(at + 2, end - at - 2);
    auto it = params.find(name);
    if (it == params.end())
      throw Error::InvalidArgument("the pipeline uses ${{{}}}, which no parameter sets (--param {}=VALUE)",
                                   name.substr(0, 64), name.substr(0, 64));
    out += text.substr(i, at - i) + it->second;
    i = end + 1;
  }
  return out + text.substr(i);
}

CompiledPipeline CompileAs(const std::string& text, const std::string& source, const session::RunRequest& as,
                           session::Runner& runner) {
  auto pipeline = ParsePipeline(text, source);
  RunnerProbe probe(runner, as.principal, as.origin, as.role, as.inputs);
  return Compile(*pipeline, probe, as.offload_splits);
}

namespace {

// The input a run stages for `f`, read from `path` (named `label` in errors).
session::FileInput StagedInput(const FileInputSpec& f, std::filesystem::path path, const std::string& label) {
  session::FileInput in;
  in.name = f.table;
  in.format = f.format.empty() ? files::FormatOfPath(label) : files::ParseFormat(f.format);
  in.path = std::move(path);
  in.options.sheet = f.sheet;
  in.options.range = f.range;
  for (auto& [column, type] : f.types) in.options.types[column] = type;
  in.label = label;
  return in;
}

}  // namespace

std::filesystem::path FileInputPath(const FileInputSpec& f, const std::filesystem::path& base_dir,
                                    const std::string& source) {
  std::filesystem::path path =
      std::filesystem::path(f.file).is_absolute() ? std::filesystem::path(f.file) : base_dir / f.file;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw Error::NotFound("{}: input '{}': no file {}", source, f.input, path.string());
  return path;
}

std::vector<session::FileInput> LoadFileInputs(const std::string& text, const std::string& source,
                                               const std::filesystem::path& base_dir,
                                               const std::filesystem::path& scratch,
                                               const session::RunRequest& as, session::Runner& runner) {
  std::vector<session::FileInput> out;
  for (auto& f : FileInputs(*ParsePipeline(text, source))) {
    auto in = StagedInput(f, FileInputPath(f, base_dir, source), f.file);
    session::RunRequest read = as;
    read.origin.run_id.clear();
    read.sql = "SELECT * FROM " + engine::QuoteIdent(f.table);
    read.inputs = {in};
    read.parquet_output = scratch / (f.table + ".parquet");
    session::Drain drain;
    runner.Run(read, drain).ThrowIfFailed();
    out.push_back({f.table, *read.parquet_output, files::FileFormat::kParquet, {}, f.file});
  }
  return out;
}

std::string JobSpecText(const nlohmann::json& job, const std::string& field, const std::string& key,
                        const std::filesystem::path& lake_root, nlohmann::json& stored, std::string& source) {
  std::string location = key + "_location";
  if (job.contains(key) == job.contains(location))
    throw Error::InvalidArgument("field '{}' needs one of '{}' (the YAML or JSON) and '{}'", field, key,
                                 location);
  if (job.contains(key)) {
    if (!job[key].is_string() || job[key].get<std::string>().size() > (1 << 20))
      throw Error::InvalidArgument("field '{}.{}' must be the YAML or JSON text, at most 1 MiB", field, key);
    return job[key];
  }
  if (!job[location].is_string())
    throw Error::InvalidArgument("field '{}.{}' must be a string", field, location);
  source = job[location];
  stored[location] = source;
  return jobs::ReadLakeScript(source, lake_root, {".yaml", ".yml", ".json"}, field + "." + location);
}

namespace {

std::map<std::string, std::string> Params(const nlohmann::json& job) {
  std::map<std::string, std::string> out;
  if (!job.contains("params")) return out;
  for (auto& [k, v] : job["params"].items()) out[k] = v.get<std::string>();
  return out;
}

class ReconciliationJob : public jobs::JobType {
 public:
  explicit ReconciliationJob(std::filesystem::path uploads) : uploads_(std::move(uploads)) {}

  std::string name() const override { return "reconciliation"; }

  nlohmann::json Parse(const nlohmann::json& job, const std::string& field,
                       const std::filesystem::path& lake_root) const override {
    for (auto& [k, v] : job.items()) {
      if (k != "type" && k != "pipeline" && k != "pipeline_location" && k != "params" && k != "files")
        throw Error::InvalidArgument(
            "unknown field '{}' in field '{}' (known: type, pipeline, pipeline_location, params, files)",
            k.substr(0, 64), field);
    }
    nlohmann::json stored = {{"type", name()}};
    std::string source = "the pipeline";
    std::string text = JobSpecText(job, field, "pipeline", lake_root, stored, source);
    if (job.contains("params")) {
      const auto& p = job["params"];
      bool ok = p.is_object() && p.size() <= 100;
      for (auto& [k, v] : p.items()) ok = ok && !k.empty() && k.size() <= 64 && v.is_string();
      if (!ok)
        throw Error::InvalidArgument("field '{}.params' must map at most 100 names to text values", field);
      stored["params"] = p;
    }
    // A spec error is the submitter's 400 now; so is a file input no upload stands for.
    auto files = FileInputs(*ParsePipeline(ApplyParams(text, Params(stored)), source));
    nlohmann::json uploads = job.value("files", nlohmann::json::object());
    if (!uploads.is_object())
      throw Error::InvalidArgument("field '{}.files' must map file inputs to uploads", field);
    for (auto& f : files) {
      if (!uploads.contains(f.input) || !uploads[f.input].is_string())
        throw Error::InvalidArgument(
            "{}: input '{}' reads a file ({}), which a server run cannot: upload it (POST /v1/uploads; `tarn "
            "recon run --server` does) and name the upload in {}.files",
            source, f.input, f.file, field);
    }
    for (auto& [name, id] : uploads.items()) {
      if (std::none_of(files.begin(), files.end(), [&](auto& f) { return f.input == name; }))
        throw Error::InvalidArgument("field '{}.files': the pipeline has no file input '{}'", field,
                                     name.substr(0, 64));
    }
    if (!files.empty()) stored["files"] = uploads;
    stored["pipeline"] = text;
    return stored;
  }

  std::string Script(const nlohmann::json& job, session::RunRequest& run,
                     session::Runner& runner) const override {
    std::string source = job.value("pipeline_location", std::string("the pipeline"));
    std::string text = ApplyParams(job.value("pipeline", ""), Params(job));
    // Each file input is the submitter's upload that job.files names.
    session::UploadStore store(uploads_);
    for (auto& f : FileInputs(*ParsePipeline(text, source))) {
      auto upload = store.Find(run.principal, job.at("files").at(f.input).get<std::string>());
      run.inputs.push_back(StagedInput(f, upload.path, upload.filename));
    }
    session::RunRequest probe = run;
    probe.origin.run_id.clear();
    auto compiled = CompileAs(text, source, probe, runner);
    // A compare of two tables may be split by its keys on a Slurm executor.
    for (size_t i = 0; i < compiled.statements.size(); i++) {
      auto& st = compiled.statements[i];
      if (!st.partition_keys.empty() || !st.parts_of.empty() || st.here)
        run.partitioning[i] = {st.partition_keys, 0, st.parts_of, st.here};
    }
    return compiled.Script();
  }

 private:
  std::filesystem::path uploads_;
};

}  // namespace

std::shared_ptr<const jobs::JobType> MakeReconciliationJobType(std::filesystem::path uploads) {
  return std::make_shared<ReconciliationJob>(std::move(uploads));
}

}  // namespace tarn::quality
