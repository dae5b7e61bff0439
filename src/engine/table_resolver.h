// TableResolver: the hook through which a connection's SQL reaches catalog tables.
//
// When a statement names a table DuckDB itself does not hold, the engine asks the
// connection's resolver what to scan instead. The catalog answers with a scan of
// exactly one table snapshot's files; later, governance wraps that answer with row
// filters and masks. Resolving is per statement: Reset() is called when a new
// statement starts so that every reference to one table inside a statement sees
// the same snapshot.
#pragma once

#include <duckdb.hpp>
#include <duckdb/parser/tableref.hpp>
#include <duckdb/planner/logical_operator.hpp>

#include <string>

namespace tarn::engine {

class TableResolver {
 public:
  virtual ~TableResolver() = default;

  // What to scan for `schema.table` (schema may be empty for an unqualified name).
  // Throws tarn::Error (e.g. kNotFound with a helpful message) if the name means
  // nothing; never returns null.
  virtual duckdb::unique_ptr<duckdb::TableRef> Resolve(const std::string& schema,
                                                       const std::string& table) = 0;

  // A new statement starts: forget what was pinned for the previous one.
  virtual void Reset() {}

  // Called with the optimized plan of every statement the connection runs before
  // it runs, except Tarn's own statements inside EngineConnection::Trusted().
  // `copy_target` is the one file a Tarn-issued COPY may write ("" if none). Throws
  // tarn::Error (kPermissionDenied) to refuse the statement. A statement whose plan
  // never reached this hook is refused by the engine.
  virtual void VerifyPlan(duckdb::LogicalOperator& plan, const std::string& copy_target) {}
};

}  // namespace tarn::engine
