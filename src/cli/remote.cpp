#include "cli/remote.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "common/error.h"
#include "common/util.h"
#include "engine/result_writer.h"

namespace fs = std::filesystem;

namespace tarn::cli {

namespace {

fs::path CredentialsFile() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  const char* home = std::getenv("HOME");
  fs::path base = xdg && *xdg ? fs::path(xdg) : fs::path(home && *home ? home : ".") / ".config";
  return base / "tarn" / "credentials.json";
}

nlohmann::json ReadCredentials() {
  std::ifstream in(CredentialsFile());
  if (!in) return nlohmann::json::object();
  try {
    auto j = nlohmann::json::parse(in);
    return j.is_object() ? j : nlohmann::json::object();
  } catch (const nlohmann::json::exception&) {
    return nlohmann::json::object();
  }
}

void WriteCredentials(const nlohmann::json& creds) {
  fs::path file = CredentialsFile();
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  ::chmod(file.parent_path().c_str(), 0700);
  WriteFileAtomic(file, creds.dump(2) + "\n", 0600);
}

std::string Trimmed(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// The server's error, as the error the CLI reports.
[[noreturn]] void ThrowServerError(const server::ClientResponse& res) {
  std::string code, message = "the server answered " + std::to_string(res.status);
  try {
    auto j = nlohmann::json::parse(res.body);
    code = j.at("error").at("code");
    message = j.at("error").at("message");
  } catch (const std::exception&) {
  }
  static const std::map<std::string, ErrorCode> kCodes = {
      {"invalid_argument", ErrorCode::kInvalidArgument},
      {"not_found", ErrorCode::kNotFound},
      {"already_exists", ErrorCode::kAlreadyExists},
      {"conflict", ErrorCode::kConflict},
      {"unauthenticated", ErrorCode::kUnauthenticated},
      {"access_denied", ErrorCode::kPermissionDenied},
      {"unsupported", ErrorCode::kUnsupported},
      {"resource_exhausted", ErrorCode::kResourceExhausted},
      {"cancelled", ErrorCode::kCancelled}};
  auto it = kCodes.find(code);
  ErrorCode ec = it != kCodes.end() ? it->second : ErrorCode::kIo;
  if (ec == ErrorCode::kUnauthenticated) message += ": run `tarn login --server URL --user NAME`";
  throw Error(ec, message);
}

std::string FormEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string Login(const RemoteOptions& remote, const std::string& user, const std::string& password) {
  std::string server = Trimmed(remote.server);
  auto res =
      server::Fetch("POST", server + "/oauth2/token", {{"Content-Type", "application/x-www-form-urlencoded"}},
                    "grant_type=password&username=" + FormEncode(user) + "&password=" + FormEncode(password),
                    remote.client);
  if (res.status != 200) ThrowServerError(res);
  auto j = nlohmann::json::parse(res.body);
  auto creds = ReadCredentials();
  creds[server] = {{"user", user},
                   {"access_token", j.at("access_token")},
                   {"expires_at", std::time(nullptr) + j.value("expires_in", 0)}};
  WriteCredentials(creds);
  return user;
}

std::string TokenFor(const RemoteOptions& remote) {
  if (!remote.token.empty()) return remote.token;
  if (const char* env = std::getenv("TARN_TOKEN"); env && *env) return env;
  auto creds = ReadCredentials();
  std::string server = Trimmed(remote.server);
  if (creds.contains(server) && creds[server].contains("access_token")) {
    if (creds[server].value("expires_at", int64_t{0}) > std::time(nullptr))
      return creds[server]["access_token"];
    throw Error::Unauthenticated("your login to {} has expired: run `tarn login --server {}`", server,
                                 server);
  }
  throw Error::Unauthenticated("not logged in to {}: run `tarn login --server {} --user NAME`", server,
                               server);
}

nlohmann::json CallApi(const RemoteOptions& remote, const std::string& method, const std::string& path,
                       const nlohmann::json& body) {
  std::map<std::string, std::string> headers = {{"Authorization", "Bearer " + TokenFor(remote)}};
  std::string text;
  if (!body.is_null()) {
    headers["Content-Type"] = "application/json";
    text = body.dump();
  }
  auto res = server::Fetch(method, Trimmed(remote.server) + path, headers, text, remote.client);
  if (res.status < 200 || res.status >= 300) ThrowServerError(res);
  return res.body.empty() ? nlohmann::json::object() : nlohmann::json::parse(res.body);
}

void RemoteSql(const RemoteOptions& remote, const std::string& sql, const std::string& format,
               const std::string& output, size_t max_rows, bool quiet) {
  nlohmann::json request = {{"sql", sql}};
  std::string wire = format == "csv" || format == "parquet" ? format : "json";
  request["format"] = wire;
  if (wire == "json") request["limit"] = format == "table" ? max_rows : 100000;
  auto res =
      server::Fetch("POST", Trimmed(remote.server) + "/v1/statements",
                    {{"Authorization", "Bearer " + TokenFor(remote)}, {"Content-Type", "application/json"}},
                    request.dump(), remote.client);
  if (res.status != 200) ThrowServerError(res);
  if (wire == "csv") {
    std::cout << res.body;
    return;
  }
  if (wire == "parquet") {
    std::ofstream out(output, std::ios::binary);
    out << res.body;
    if (!out) throw Error::Io("cannot write {}", output);
    if (!quiet) std::cerr << "wrote " << res.body.size() << " bytes to " << output << "\n";
    return;
  }
  auto j = nlohmann::json::parse(res.body);
  if (!quiet) {
    for (auto& m : j.value("messages", nlohmann::json::array())) std::cerr << m.get<std::string>() << "\n";
  }
  auto& columns = j["columns"];
  if (columns.empty()) return;
  std::vector<std::string> names;
  for (auto& c : columns) names.push_back(c["name"]);
  if (format == "json") {
    for (auto& row : j["rows"]) {
      nlohmann::json obj = nlohmann::json::object();
      for (size_t i = 0; i < names.size() && i < row.size(); i++) obj[names[i]] = row[i];
      std::cout << obj.dump() << "\n";
    }
    return;
  }
  // Table: rebuild typed values so that numbers align as they do locally.
  std::vector<duckdb::LogicalType> types;
  for (auto& c : columns) {
    try {
      types.push_back(duckdb::TransformStringToLogicalType(c["type"].get<std::string>()));
    } catch (const std::exception&) {
      types.push_back(duckdb::LogicalType::VARCHAR);
    }
  }
  auto text = [](const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  for (size_t c = 0; c < types.size(); c++) {
    for (auto& row : j["rows"]) {
      duckdb::Value cast;
      std::string err;
      if (!row[c].is_null() && !duckdb::Value(text(row[c])).DefaultTryCastAs(types[c], cast, &err)) {
        types[c] = duckdb::LogicalType::VARCHAR;
        break;
      }
    }
  }
  auto writer = engine::MakeResultWriter(engine::OutputFormat::kTable, std::cout, max_rows);
  writer->Begin(names, types);
  duckdb::DataChunk chunk;
  duckdb::vector<duckdb::LogicalType> chunk_types(types.begin(), types.end());
  chunk.Initialize(duckdb::Allocator::DefaultAllocator(), chunk_types);
  size_t n = 0;
  auto flush = [&] {
    chunk.SetCardinality(n);
    writer->Write(chunk);
    chunk.Reset();
    n = 0;
  };
  for (auto& row : j["rows"]) {
    for (size_t c = 0; c < types.size(); c++) {
      duckdb::Value v =
          row[c].is_null() ? duckdb::Value(types[c]) : duckdb::Value(text(row[c])).DefaultCastAs(types[c]);
      chunk.SetValue(c, n, v);
    }
    if (++n == STANDARD_VECTOR_SIZE) flush();
  }
  flush();
  writer->End();
  if (j.value("truncated", false))
    std::cerr << "(the server returned the first " << j["row_count"] << " rows)\n";
}

}  // namespace tarn::cli
