// Talking to a Tarn server from the command line: the token cache and the calls
// `tarn login`, `tarn whoami`, `tarn sql --server` and the remote admin commands make.
//
// Tokens are cached per server URL in $XDG_CONFIG_HOME/tarn/credentials.json
// (default ~/.config/tarn/), a file only its owner can read (0600, folder 0700).
// A named profile (`tarn login --profile p`, then --profile p or $TARN_PROFILE)
// keeps its own server URL, user and token, so that several logins to one server
// (an analyst's and an administrator's) live side by side.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "common/util.h"
#include "server/http_client.h"

namespace tarn::cli {

struct RemoteOptions {
  std::string server;   // base URL, e.g. http://127.0.0.1:8998
  std::string token;    // explicit token; else the cached one
  std::string profile;  // named login; its server is used when `server` is empty
  std::string role;     // tarn sql: run with only this role's grants
  server::ClientOptions client;
};

// `remote` with its server filled in from its profile when none was given. Throws
// kInvalidArgument if there is still no server (or the profile names another one
// than --server), kNotFound for an unknown profile.
RemoteOptions Resolve(RemoteOptions remote);

// The cached logins: [{"profile", "server", "user", "expires_at"}] (profile "" for
// the per-server ones), never the tokens.
nlohmann::json ListLogins();
// `tarn profiles`: ListLogins() as a table, or (json) one object per line.
void PrintLogins(bool json);

// Logs in with a password and caches the token; returns the user name.
std::string Login(const RemoteOptions& remote, const std::string& user, const std::string& password);

// The token to use: --token, else $TARN_TOKEN, else the cache; throws
// kUnauthenticated telling the user to run `tarn login`.
std::string TokenFor(const RemoteOptions& remote);

// Calls the API with the bearer token; returns the parsed JSON body of a 2xx
// answer, or throws the server's error (code and message) as a tarn::Error.
nlohmann::json CallApi(const RemoteOptions& remote, const std::string& method, const std::string& path,
                       const nlohmann::json& body = nullptr);
// The same with a body of `content_type` (a file's bytes).
nlohmann::json CallApiWithBody(const RemoteOptions& remote, const std::string& method,
                               const std::string& path, const std::string& body,
                               const std::string& content_type);
// The same, for an answer that is not JSON (CSV, Parquet): its body as it came.
std::string CallApiRaw(const RemoteOptions& remote, const std::string& method, const std::string& path);

// How `tarn sql` prints.
struct SqlOutput {
  std::string format = "table";  // table, csv, json, parquet
  std::string output;            // the file, for parquet
  size_t max_rows = 1000;        // table: rows shown; csv/json: a cap only if given
  bool max_rows_given = false;
  bool quiet = false;
  bool expanded = false;  // table: one line per column, values whole
};

// Runs SQL on the server under `query_id` and prints like `tarn sql` does locally,
// fetching every page of the result. Returns the exit code: 0, or 6 when a cap
// (--max-rows, or the server's) cut a csv or json result (a warning says which).
int RemoteSql(const RemoteOptions& remote, const std::string& sql, const SqlOutput& out,
              const std::string& query_id);

// `tarn queries list`: the running queries the caller may see (administrators:
// everyone's), as a table or (json) one JSON object per line.
void ListQueries(const RemoteOptions& remote, bool json);
// `tarn queries cancel ID`: cancels it; prints its state.
void CancelQuery(const RemoteOptions& remote, const std::string& query_id);

// Asks the server to cancel `query_id` (Ctrl-C). Never throws.
void CancelRemote(const RemoteOptions& remote, const std::string& query_id);

}  // namespace tarn::cli
