#include "quality/pg_source.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <fstream>
#include <regex>

#include "common/error.h"

namespace tarn::quality {

namespace {

struct ResultFree {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultFree>;

// The DuckDB type of a result column's type oid (pg_type.h's fixed oids).
std::string DuckTypeOfOid(Oid oid) {
  switch (oid) {
    case 16: return "BOOLEAN";
    case 20:
    case 21:
    case 23: return "BIGINT";
    case 700:
    case 701:
    case 1700: return "DOUBLE";
    case 1082: return "DATE";
    case 1114: return "TIMESTAMP";
    case 1184: return "TIMESTAMP WITH TIME ZONE";
    default: return "VARCHAR";
  }
}

std::string ReadPassword(const std::string& file, const std::string& name) {
  std::ifstream in(file);
  std::string line;
  if (!in || !std::getline(in, line))
    throw Error(ErrorCode::kIo, fmt::format("connection '{}': its password_file cannot be read", name));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

}  // namespace

struct PgSource::Conn {
  PGconn* pg = nullptr;
  ~Conn() {
    if (pg) PQfinish(pg);
  }
};

std::string DuckTypeOfPg(const std::string& t) {
  static const std::regex kNumeric(R"(numeric\((\d+),(\d+)\))");
  std::smatch m;
  if (std::regex_match(t, m, kNumeric))
    return std::stoi(m[1]) <= 38 ? fmt::format("DECIMAL({},{})", m[1].str(), m[2].str()) : "DOUBLE";
  if (t == "smallint") return "SMALLINT";
  if (t == "integer") return "INTEGER";
  if (t == "bigint") return "BIGINT";
  if (t == "numeric" || t == "double precision") return "DOUBLE";
  if (t == "real") return "FLOAT";
  if (t == "boolean") return "BOOLEAN";
  if (t == "date") return "DATE";
  if (t == "uuid") return "UUID";
  if (t.rfind("timestamp", 0) == 0)
    return t.find("with time zone") != std::string::npos && t.find("without") == std::string::npos
               ? "TIMESTAMP WITH TIME ZONE"
               : "TIMESTAMP";
  return "VARCHAR";  // text, character varying, character, and anything else read as its text
}

PgSource::PgSource(const ExternalConnection& c, int statement_timeout_s)
    : conn_(std::make_unique<Conn>()), name_(c.name) {
  std::string password = c.password_file.empty() ? "" : ReadPassword(c.password_file, c.name);
  // Checksum queries group on hash prefixes PostgreSQL cannot estimate (it expects a
  // group per record): hash aggregation, in parallel, is what they need.
  std::string options = fmt::format(
      "-c TimeZone=UTC -c DateStyle=ISO -c extra_float_digits=1 -c statement_timeout={}s "
      "-c default_transaction_read_only=on -c enable_sort=off -c parallel_setup_cost=0 -c "
      "parallel_tuple_cost=0",
      std::max(1, statement_timeout_s));
  std::vector<const char*> keys = {"dbname", "connect_timeout", "application_name", "options"};
  std::vector<const char*> values = {c.url.c_str(), "10", "tarn-validation", options.c_str()};
  if (!password.empty()) keys.push_back("password"), values.push_back(password.c_str());
  keys.push_back(nullptr), values.push_back(nullptr);
  conn_->pg = PQconnectdbParams(keys.data(), values.data(), 1);
  if (!conn_->pg || PQstatus(conn_->pg) != CONNECTION_OK) {
    std::string why = conn_->pg ? PQerrorMessage(conn_->pg) : "out of memory";
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    throw Error(ErrorCode::kIo, fmt::format("connection '{}': cannot connect: {}", name_, why));
  }
  Query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

PgSource::~PgSource() = default;

PgRows PgSource::Query(const std::string& sql) {
  PgRows out;
  Stream(
      sql, [&](const std::vector<std::optional<std::string>>& row) { out.rows.push_back(row); }, out.columns);
  return out;
}

void PgSource::Stream(const std::string& sql,
                      const std::function<void(const std::vector<std::optional<std::string>>&)>& row,
                      std::vector<PgColumn>& columns) {
  PGconn* pg = conn_->pg;
  queries_++;
  if (!PQsendQuery(pg, sql.c_str()) || !PQsetSingleRowMode(pg))
    throw Error(ErrorCode::kIo, fmt::format("connection '{}': {}", name_, PQerrorMessage(pg)));
  std::optional<Error> failed;
  std::vector<std::optional<std::string>> cells;
  while (Result r{PQgetResult(pg)}) {
    auto status = PQresultStatus(r.get());
    if (status == PGRES_SINGLE_TUPLE || status == PGRES_TUPLES_OK) {
      int m = PQnfields(r.get());
      if (columns.empty()) {
        for (int c = 0; c < m; c++)
          columns.push_back({PQfname(r.get(), c), "", DuckTypeOfOid(PQftype(r.get(), c))});
      }
      for (int i = 0; i < PQntuples(r.get()); i++) {
        cells.assign(m, std::nullopt);
        for (int c = 0; c < m; c++) {
          if (PQgetisnull(r.get(), i, c)) continue;
          int len = PQgetlength(r.get(), i, c);
          bytes_ += len;
          cells[c].emplace(PQgetvalue(r.get(), i, c), len);
          if (PQftype(r.get(), c) == 16) *cells[c] = *cells[c] == "t" ? "true" : "false";
        }
        if (!failed) {
          try {
            row(cells);
          } catch (const Error& e) {
            failed = e;  // drain the rest of the results before rethrowing
          }
        }
      }
    } else if (status != PGRES_COMMAND_OK && !failed) {
      const char* state = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
      std::string msg = PQresultErrorMessage(r.get());
      while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
      bool timeout = state && std::string(state) == "57014";
      failed = Error(timeout ? ErrorCode::kResourceExhausted : ErrorCode::kIo,
                     fmt::format("connection '{}': {}", name_, msg));
    }
  }
  if (failed) throw *failed;
}

std::vector<PgColumn> PgSource::Describe(const std::string& table, const std::string& name) {
  // to_regclass: NULL, not an error, for a table that does not exist; a table the
  // connection's user may not read is reported the same way.
  std::string lit = "'" + std::regex_replace(table, std::regex("'"), "''") + "'";
  auto rows =
      Query(fmt::format("SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a WHERE "
                        "a.attrelid = to_regclass({0}) "
                        "AND a.attnum > 0 AND NOT a.attisdropped AND has_table_privilege(to_regclass({0}), "
                        "'SELECT') ORDER BY a.attnum",
                        lit));
  if (rows.rows.empty())
    throw Error::NotFound(
        "table {} does not exist through connection '{}' (or the connection may not read it)", name, name_);
  std::vector<PgColumn> out;
  for (auto& r : rows.rows) out.push_back({*r[0], *r[1], DuckTypeOfPg(*r[1])});
  return out;
}

}  // namespace tarn::quality
