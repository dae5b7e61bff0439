#include "cli/remote.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "cli/sql_command.h"
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

}  // namespace

std::string Login(const RemoteOptions& remote, const std::string& user, const std::string& password) {
  std::string server = Trimmed(remote.server);
  auto res = server::Fetch(
      "POST", server + "/oauth2/token", {{"Content-Type", "application/x-www-form-urlencoded"}},
      "grant_type=password&username=" + UrlEncode(user) + "&password=" + UrlEncode(password), remote.client);
  if (res.status == 400 || res.status == 401) {  // RFC 6749 §5.2 {"error", "error_description"}
    auto j = nlohmann::json::parse(res.body, nullptr, false);
    if (j.is_object() && j.contains("error") && j["error"].is_string()) {
      std::string error = j["error"];
      if (error == "invalid_grant" || error == "invalid_client")
        throw Error::Unauthenticated("login refused: wrong user name or password for {}", user);
      throw Error::InvalidArgument("login refused: {}", j.value("error_description", error));
    }
  }
  if (res.status != 200) ThrowServerError(res);
  auto j = nlohmann::json::parse(res.body);
  auto creds = ReadCredentials();
  nlohmann::json entry = {{"user", user},
                          {"access_token", j.at("access_token")},
                          {"expires_at", std::time(nullptr) + j.value("expires_in", 0)}};
  if (remote.profile.empty()) {
    creds[server] = entry;
  } else {
    entry["server"] = server;
    if (!creds.contains("profiles") || !creds["profiles"].is_object())
      creds["profiles"] = nlohmann::json::object();
    creds["profiles"][remote.profile] = entry;
  }
  WriteCredentials(creds);
  return user;
}

RemoteOptions Resolve(RemoteOptions remote) {
  remote.server = Trimmed(remote.server);
  if (!remote.profile.empty()) {
    auto creds = ReadCredentials();
    auto profiles = creds.value("profiles", nlohmann::json::object());
    if (profiles.contains(remote.profile) && profiles[remote.profile].is_object()) {
      std::string server = profiles[remote.profile].value("server", "");
      if (remote.server.empty()) {
        remote.server = server;
      } else if (remote.server != server) {
        throw Error::InvalidArgument(
            "profile {} is a login to {}, not {}: drop --server, or log in again with both", remote.profile,
            server, remote.server);
      }
    } else if (remote.server.empty()) {
      throw Error::NotFound("no profile {}: run `tarn login --profile {} --server URL --user NAME`",
                            remote.profile, remote.profile);
    }
  }
  if (remote.server.empty()) {
    throw Error::InvalidArgument("which server? give --server URL, set $TARN_SERVER, or use --profile NAME");
  }
  return remote;
}

nlohmann::json ListLogins() {
  auto creds = ReadCredentials();
  nlohmann::json out = nlohmann::json::array();
  auto add = [&](const std::string& profile, const std::string& server, const nlohmann::json& e) {
    if (!e.is_object()) return;
    out.push_back({{"profile", profile},
                   {"server", server},
                   {"user", e.value("user", "")},
                   {"expires_at", e.value("expires_at", int64_t{0})}});
  };
  for (auto& [key, e] : creds.items()) {
    if (key != "profiles") add("", key, e);
  }
  const auto profiles = creds.value("profiles", nlohmann::json::object());
  for (auto& [name, e] : profiles.items()) {
    add(name, e.is_object() ? e.value("server", "") : "", e);
  }
  return out;
}

std::string TokenFor(const RemoteOptions& remote) {
  if (!remote.token.empty()) return remote.token;
  if (const char* env = std::getenv("TARN_TOKEN"); env && *env) return env;
  auto creds = ReadCredentials();
  std::string server = Trimmed(remote.server);
  nlohmann::json entry;
  std::string again = "tarn login --server " + server;
  if (!remote.profile.empty()) {
    entry = creds.value("profiles", nlohmann::json::object()).value(remote.profile, nlohmann::json());
    again += " --profile " + remote.profile;
    if (entry.is_object() && entry.value("server", "") != server) entry = nullptr;
  } else if (creds.contains(server)) {
    entry = creds[server];
  }
  if (entry.is_object() && entry.contains("access_token") && entry["access_token"].is_string()) {
    if (entry.value("expires_at", int64_t{0}) > std::time(nullptr)) return entry["access_token"];
    throw Error::Unauthenticated("your login to {} has expired: run `{} --user {}`", server, again,
                                 entry.value("user", std::string("NAME")));
  }
  throw Error::Unauthenticated("not logged in to {}: run `{} --user NAME`", server, again);
}

nlohmann::json CallApi(const RemoteOptions& remote, const std::string& method, const std::string& path,
                       const nlohmann::json& body) {
  if (body.is_null()) return CallApiWithBody(remote, method, path, "", "");
  return CallApiWithBody(remote, method, path, body.dump(), "application/json");
}

nlohmann::json CallApiWithBody(const RemoteOptions& remote, const std::string& method,
                               const std::string& path, const std::string& body,
                               const std::string& content_type) {
  std::map<std::string, std::string> headers = {{"Authorization", "Bearer " + TokenFor(remote)}};
  if (!content_type.empty()) headers["Content-Type"] = content_type;
  auto res = server::Fetch(method, Trimmed(remote.server) + path, headers, body, remote.client);
  if (res.status < 200 || res.status >= 300) ThrowServerError(res);
  return res.body.empty() ? nlohmann::json::object() : nlohmann::json::parse(res.body);
}

std::string CallApiRaw(const RemoteOptions& remote, const std::string& method, const std::string& path) {
  std::map<std::string, std::string> headers = {{"Authorization", "Bearer " + TokenFor(remote)}};
  auto res = server::Fetch(method, Trimmed(remote.server) + path, headers, "", remote.client);
  if (res.status < 200 || res.status >= 300) ThrowServerError(res);
  return res.body;
}

namespace {

// Prints rows of JSON pages as a table, rebuilding typed values so that numbers
// align as they do locally.
void PrintTable(const nlohmann::json& columns, const nlohmann::json& rows, engine::TableLayout layout) {
  std::vector<std::string> names;
  std::vector<duckdb::LogicalType> types;
  for (auto& c : columns) {
    names.push_back(c["name"]);
    try {
      types.push_back(duckdb::TransformStringToLogicalType(c["type"].get<std::string>()));
    } catch (const std::exception&) {
      types.push_back(duckdb::LogicalType::VARCHAR);
    }
  }
  auto text = [](const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  for (size_t c = 0; c < types.size(); c++) {
    for (auto& row : rows) {
      duckdb::Value cast;
      std::string err;
      if (!row[c].is_null() && !duckdb::Value(text(row[c])).DefaultTryCastAs(types[c], cast, &err)) {
        types[c] = duckdb::LogicalType::VARCHAR;
        break;
      }
    }
  }
  auto writer = engine::MakeResultWriter(engine::OutputFormat::kTable, std::cout, layout);
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
  for (auto& row : rows) {
    for (size_t c = 0; c < types.size(); c++) {
      duckdb::Value v =
          row[c].is_null() ? duckdb::Value(types[c]) : duckdb::Value(text(row[c])).DefaultCastAs(types[c]);
      chunk.SetValue(c, n, v);
    }
    if (++n == STANDARD_VECTOR_SIZE) flush();
  }
  flush();
  writer->End();
}

}  // namespace

int RemoteSql(const RemoteOptions& remote, const std::string& sql, const SqlOutput& out,
              const std::string& query_id) {
  std::string server = Trimmed(remote.server);
  std::map<std::string, std::string> headers = {{"Authorization", "Bearer " + TokenFor(remote)}};
  nlohmann::json request = {{"sql", sql}, {"query_id", query_id}};
  if (!remote.role.empty()) request["role"] = remote.role;
  // csv and json print the server's own text (JSON lines); the table needs typed rows.
  std::string wire = out.format == "table" ? "json" : out.format == "json" ? "jsonl" : out.format;
  request["format"] = wire;
  bool table = out.format == "table";
  if (table || out.max_rows_given) request["max_rows"] = out.max_rows;
  if (table) request["limit"] = std::min<size_t>(out.max_rows, 10000);
  auto post_headers = headers;
  post_headers["Content-Type"] = "application/json";
  server::ClientOptions patient = remote.client;  // a statement may run for hours
  patient.timeout = std::chrono::hours(24);
  auto res = server::Fetch("POST", server + "/v1/statements", post_headers, request.dump(), patient);
  if (res.status != 200) ThrowServerError(res);
  if (wire == "parquet") {
    std::ofstream file(out.output, std::ios::binary);
    file << res.body;
    if (!file) throw Error::Io("cannot write {}", out.output);
    if (!out.quiet) std::cerr << "wrote " << res.body.size() << " bytes to " << out.output << "\n";
    return 0;
  }
  // Every page, in order; `cut` is the reason a cap ended the result, if one did.
  std::string cut;
  auto next_text_page = [&](const server::ClientResponse& page) -> std::string {
    auto it = page.headers.find("x-tarn-next-uri");
    if (it != page.headers.end()) return it->second;
    auto why = page.headers.find("x-tarn-truncated-reason");
    if (why != page.headers.end()) cut = why->second;
    return "";
  };
  auto next_json_page = [&](const nlohmann::json& page) -> std::string {
    if (page.contains("next_uri")) return page["next_uri"];
    if (page.value("truncated", false)) cut = page.value("truncated_reason", "a server limit");
    return "";
  };
  auto fetch = [&](const std::string& uri) {
    // Only the server's own page paths are followed.
    if (!uri.starts_with("/v1/queries/")) throw Error::Io("the server sent an unexpected page link");
    auto page = server::Fetch("GET", server + uri, headers, "", remote.client);
    if (page.status != 200) ThrowServerError(page);
    return page;
  };
  if (wire != "json") {
    std::cout << res.body;
    for (auto uri = next_text_page(res); !uri.empty();) {
      auto page = fetch(uri);
      std::cout << page.body;
      uri = next_text_page(page);
    }
  } else {
    auto j = nlohmann::json::parse(res.body);
    if (!out.quiet) {
      for (auto& m : j.value("messages", nlohmann::json::array())) std::cerr << m.get<std::string>() << "\n";
    }
    auto columns = j["columns"];
    nlohmann::json rows = std::move(j["rows"]);
    for (auto uri = next_json_page(j); !uri.empty();) {
      auto page = nlohmann::json::parse(fetch(uri).body);
      for (auto& row : page["rows"]) rows.push_back(std::move(row));
      uri = next_json_page(page);
    }
    if (!columns.empty()) PrintTable(columns, rows, {out.max_rows, out.expanded, TerminalWidth()});
  }
  std::cout.flush();
  if (cut.empty()) return 0;
  if (table) {
    if (!out.quiet) std::cerr << "(the result was cut at " << cut << ")\n";
    return 0;
  }
  std::cerr << "warning: the result is incomplete: it was cut at " << cut << "\n";
  return ExitCodeFor(ErrorCode::kResourceExhausted);
}

void ListQueries(const RemoteOptions& remote, bool json) {
  auto list = CallApi(remote, "GET", "/v1/queries");
  if (json) {
    for (auto& q : list["queries"]) std::cout << q.dump() << "\n";
    return;
  }
  nlohmann::json columns = nlohmann::json::array({{{"name", "query_id"}, {"type", "VARCHAR"}},
                                                  {{"name", "user"}, {"type", "VARCHAR"}},
                                                  {{"name", "state"}, {"type", "VARCHAR"}},
                                                  {{"name", "seconds"}, {"type", "DOUBLE"}},
                                                  {{"name", "from"}, {"type", "VARCHAR"}},
                                                  {{"name", "sql"}, {"type", "VARCHAR"}}});
  nlohmann::json rows = nlohmann::json::array();
  for (auto& q : list["queries"]) {
    rows.push_back({q["query_id"], q["user"], q["state"], std::round(q.value("elapsed_s", 0.0) * 10) / 10,
                    q["origin"].value("kind", ""), q["sql"]});
  }
  PrintTable(columns, rows, {1000, false, TerminalWidth()});
}

void PrintLogins(bool json) {
  auto logins = ListLogins();
  if (json) {
    for (auto& l : logins) std::cout << l.dump() << "\n";
    return;
  }
  nlohmann::json columns = nlohmann::json::array();
  for (const char* c : {"profile", "server", "user", "expires"})
    columns.push_back({{"name", c}, {"type", "VARCHAR"}});
  nlohmann::json rows = nlohmann::json::array();
  auto now = std::time(nullptr);
  for (auto& l : logins) {
    int64_t left = l["expires_at"].get<int64_t>() - now;
    std::string expires = left <= 0 ? "expired" : "in " + FormatDuration(std::chrono::seconds(left));
    rows.push_back(
        {l["profile"].get<std::string>().empty() ? "-" : l["profile"], l["server"], l["user"], expires});
  }
  PrintTable(columns, rows, {1000, false, TerminalWidth()});
}

void CancelQuery(const RemoteOptions& remote, const std::string& query_id) {
  auto r = CallApi(remote, "DELETE", "/v1/queries/" + query_id);
  std::cout << r.value("query_id", query_id) << "\t" << r.value("state", "") << "\n";
}

void CancelRemote(const RemoteOptions& remote, const std::string& query_id) {
  try {
    server::ClientOptions quick = remote.client;
    quick.timeout = std::chrono::seconds(5);
    // A statement the server has not registered yet answers 404: ask again for a while.
    for (int attempt = 0; attempt < 30; attempt++) {
      auto res = server::Fetch("DELETE", Trimmed(remote.server) + "/v1/queries/" + query_id,
                               {{"Authorization", "Bearer " + TokenFor(remote)}}, "", quick);
      if (res.status != 404) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  } catch (...) {
  }
}

}  // namespace tarn::cli
