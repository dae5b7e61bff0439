#include "server/upload_routes.h"

#include <fstream>

#include "common/util.h"
#include "jobs/job_store.h"
#include "session/upload.h"

namespace tarn::server {

bool IsUploadPath(std::string_view path) {
  return path == "/v1/uploads" ||
         (path.starts_with("/v1/databases/") && path.ends_with("/upload") && path.find('?') == std::string_view::npos);
}

namespace {

files::ReadOptions ReadOptionsOf(const std::map<std::string, std::string>& query) {
  files::ReadOptions options;
  auto get = [&](const char* k) {
    auto it = query.find(k);
    return it == query.end() ? std::string() : it->second;
  };
  options.sheet = get("sheet");
  options.range = get("range");
  std::string types = get("types");
  for (size_t start = 0; start < types.size();) {
    size_t end = start;  // the next comma outside parentheses: DECIMAL(18,2) is one type
    for (int depth = 0; end < types.size() && (types[end] != ',' || depth > 0); end++)
      depth += types[end] == '(' ? 1 : types[end] == ')' ? -1 : 0;
    std::string item = types.substr(start, end - start);
    auto colon = item.find(':');
    if (colon == std::string::npos || colon == 0)
      throw Error::InvalidArgument("types: '{}' is not column:TYPE", item.substr(0, 64));
    options.types[item.substr(0, colon)] = item.substr(colon + 1);
    start = end + 1;
  }
  return options;
}

}  // namespace

void AddUploadRoutes(Router& router, UploadRoute route) {
  router.Add(http::verb::post, "/v1/databases/{db}/tables/{table}/upload", true, [route](RequestContext& ctx) {
    auto query = ctx.query;
    auto mode = session::ParseUploadMode(query.count("mode") ? query["mode"] : "create");
    std::string filename = query.count("filename") ? query["filename"] : "";
    files::FileFormat format = query.count("format") ? files::ParseFormat(query["format"])
                               : !filename.empty()   ? files::FormatOfPath(filename)
                                                     : throw Error::InvalidArgument(
                                                         "say the file's format: ?format=csv|parquet|json|xlsx "
                                                         "or ?filename=NAME.ext");
    session::FileInput input;
    input.name = "upload";
    input.format = format;
    input.options = ReadOptionsOf(query);
    input.label = filename.empty() ? "the uploaded file" : filename;
    session::RunRequest run;
    run.principal = *ctx.principal;
    run.origin.kind = "http";
    run.origin.request_id = ctx.request_id;
    run.sql = session::UploadScript(ctx.params["db"], ctx.params["table"], mode);
    run.client_gone = ctx.client_gone;
    // The body is spooled to a file of its own, removed whatever happens.
    input.path = route.temp_dir / ("upload-" + RandomHex() + "." + files::FormatName(format));
    struct Remove {
      std::filesystem::path path;
      ~Remove() {
        std::error_code ec;
        std::filesystem::remove(path, ec);
      }
    } remove{input.path};
    {
      std::ofstream out(input.path, std::ios::binary | std::ios::trunc);
      out.write(ctx.request.body().data(), static_cast<std::streamsize>(ctx.request.body().size()));
      if (!out) throw Error::Io("cannot spool the upload");
    }
    run.inputs.push_back(input);
    session::UploadOutcome outcome;
    auto result = route.runner().Run(run, outcome);
    result.ThrowIfFailed();
    auto status = mode == session::UploadMode::kCreate ? http::status::created : http::status::ok;
    return JsonResponse(status,
                        {{"table", ctx.params["db"] + "." + ctx.params["table"]},
                         {"mode", query.count("mode") ? query["mode"] : "create"},
                         {"rows_written", outcome.rows_written},
                         {"message", outcome.message}},
                        ctx.request.version());
  });

  router.Add(http::verb::post, "/v1/uploads", true, [route](RequestContext& ctx) {
    auto it = ctx.query.find("filename");
    if (it == ctx.query.end()) throw Error::InvalidArgument("name the file: ?filename=NAME.csv|parquet|json|xlsx");
    int64_t now = EpochMillis();
    auto info = session::UploadStore(route.uploads_dir).Save(*ctx.principal, it->second, ctx.request.body(), now);
    int64_t expires = now + int64_t{session::UploadStore::kUploadDays} * 86400 * 1000;
    return JsonResponse(http::status::created,
                        {{"upload_id", info.id},
                         {"filename", info.filename},
                         {"bytes", info.bytes},
                         {"expires_at", jobs::Iso(expires)}},
                        ctx.request.version());
  });
}

}  // namespace tarn::server
