#include "store/postgres_store.h"

#include <cstring>
#include <memory>

#include "common/error.h"

namespace tarn::store {

namespace {
struct ResultCloser {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultCloser>;

// Rewrites '?' placeholders to $1, $2, ... (our statements never quote a '?').
std::string NumberPlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 8);
  int n = 0;
  for (char c : sql) {
    if (c == '?') {
      out += '$';
      out += std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

// Strips the password from a connection URL for error messages.
std::string Redact(const std::string& url) {
  auto at = url.find('@');
  auto scheme = url.find("://");
  if (at == std::string::npos || scheme == std::string::npos) return url;
  auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon) + ":***" + url.substr(at);
}
}  // namespace

PostgresStore::PostgresStore(const std::string& url) {
  conn_ = PQconnectdb(url.c_str());
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    PQfinish(conn_);
    conn_ = nullptr;
    throw Error::Io("cannot connect to PostgreSQL metadata store {}: {}", Redact(url), msg);
  }
  Run("SET client_min_messages = warning", {});
}

PostgresStore::~PostgresStore() {
  PQfinish(conn_);
}

PGresult* PostgresStore::Run(std::string_view sql, const std::vector<Param>& params) {
  std::string text = NumberPlaceholders(sql);
  std::vector<std::string> storage(params.size());
  std::vector<const char*> values(params.size(), nullptr);
  for (size_t i = 0; i < params.size(); i++) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::nullptr_t>) {
            values[i] = nullptr;
          } else if constexpr (std::is_same_v<T, std::string>) {
            values[i] = v.c_str();
          } else {
            storage[i] = std::to_string(v);
            values[i] = storage[i].c_str();
          }
        },
        params[i]);
  }
  PGresult* res = PQexecParams(conn_, text.c_str(), static_cast<int>(params.size()), nullptr, values.data(),
                               nullptr, nullptr, 0);
  auto status = PQresultStatus(res);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return res;
  ResultPtr guard(res);
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn_);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  if (state && std::strcmp(state, "23505") == 0) throw Error::AlreadyExists("metadata store: {}", msg);
  if (state && (std::strcmp(state, "40001") == 0 || std::strcmp(state, "40P01") == 0)) {
    throw Error::Conflict("metadata store: {}; try again", msg);
  }
  throw Error::Io("metadata store (PostgreSQL): {}", msg);
}

std::vector<Row> PostgresStore::Query(std::string_view sql, const std::vector<Param>& params) {
  ResultPtr res(Run(sql, params));
  std::vector<Row> rows;
  int n = PQntuples(res.get());
  int m = PQnfields(res.get());
  rows.reserve(n);
  for (int r = 0; r < n; r++) {
    std::vector<std::optional<std::string>> cells;
    cells.reserve(m);
    for (int c = 0; c < m; c++) {
      if (PQgetisnull(res.get(), r, c)) {
        cells.emplace_back(std::nullopt);
      } else {
        cells.emplace_back(std::string(PQgetvalue(res.get(), r, c), PQgetlength(res.get(), r, c)));
      }
    }
    rows.emplace_back(std::move(cells));
  }
  return rows;
}

int64_t PostgresStore::Execute(std::string_view sql, const std::vector<Param>& params) {
  ResultPtr res(Run(sql, params));
  const char* n = PQcmdTuples(res.get());
  return (n && *n) ? std::stoll(n) : 0;
}

void PostgresStore::Begin() {
  Execute("BEGIN", {});
}
void PostgresStore::Commit() {
  Execute("COMMIT", {});
}
void PostgresStore::Rollback() {
  Execute("ROLLBACK", {});
}

}  // namespace tarn::store
