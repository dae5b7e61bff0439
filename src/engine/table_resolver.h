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

// The name of an identity function BOOLEAN -> BOOLEAN the engine registers: a
// resolver may mark conditions of the scans it returns with it and find them again
// in PreparePlan (the plan binds no other way back to the SQL that made it). Users
// must not be able to call it (governance refuses names starting with "__tarn").
inline constexpr const char* kGuardFunction = "__tarn_guard";

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

  // Called with the bound plan of every statement the connection runs, before
  // DuckDB's optimizers (same exceptions as VerifyPlan). May rewrite the plan, e.g.
  // to remove the kGuardFunction markers its resolved scans carry.
  virtual void PreparePlan(duckdb::unique_ptr<duckdb::LogicalOperator>& plan) {}

  // Called with the optimized plan of every statement the connection runs before
  // it runs, except Tarn's own statements inside EngineConnection::Trusted().
  // `copy_target` is the one file a Tarn-issued COPY may write ("" if none). Throws
  // tarn::Error (kPermissionDenied) to refuse the statement. A statement whose plan
  // never reached this hook is refused by the engine.
  virtual void VerifyPlan(duckdb::LogicalOperator& plan, const std::string& copy_target) {}
};

}  // namespace tarn::engine
