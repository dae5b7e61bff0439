// PlannedResolver: the table resolver of a query that a server planned and a node
// runs (`tarn worker`). The server bound the query as its caller (Governor: the
// pre-bind check, the governed scans, plan verification) and sent the statement as
// rewritten together with the governed scans its names resolved to (PlannedReads).
// On the node, each name resolves to exactly that scan again, and the plan is
// verified the same way: it may read only the files the server's scans named, and
// write only the task's own output. Nothing on the node consults a policy.
//
// Thread-safety: one thread at a time (the worker's connection).
#pragma once

#include <map>
#include <string>

#include "engine/table_resolver.h"
#include "governance/governance.h"

namespace tarn::governance {

// The key under which Governor::Planned names the scan the engine asked for as
// (schema, table): "db.t", or the pin of a time-travel read.
std::string ResolverKey(const std::string& schema, const std::string& table);
// The key of a run's temporary table `name` (any case).
std::string TempTableKey(const std::string& name);

class PlannedResolver : public engine::TableResolver {
 public:
  explicit PlannedResolver(PlannedReads reads) : reads_(std::move(reads)) {}
  // kNotFound for a name the server did not plan (the statement changed on the way).
  duckdb::unique_ptr<duckdb::TableRef> Resolve(const std::string& schema, const std::string& table) override;
  void PreparePlan(duckdb::unique_ptr<duckdb::LogicalOperator>& plan) override;
  void VerifyPlan(duckdb::LogicalOperator& plan, const std::string& copy_target) override;

 private:
  PlannedReads reads_;
};

}  // namespace tarn::governance
