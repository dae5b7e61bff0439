#include "governance/planned_resolver.h"

#include <duckdb/parser/query_node/select_node.hpp>

#include "common/error.h"
#include "engine/engine.h"
#include "governance/internal.h"

namespace tarn::governance {

duckdb::unique_ptr<duckdb::TableRef> PlannedResolver::Resolve(const std::string& schema,
                                                              const std::string& table) {
  auto it = reads_.scans.find(ResolverKey(schema, table));
  if (it == reads_.scans.end())
    throw Error::NotFound("table {}.{} is not part of this task's plan", schema.substr(0, 64),
                          table.substr(0, 64));
  auto statements = engine::Parse("SELECT * FROM " + it->second);
  if (statements.size() != 1 || statements[0]->type != duckdb::StatementType::SELECT_STATEMENT)
    throw Error::Internal("a planned scan is not one table reference");
  auto& node = statements[0]->Cast<duckdb::SelectStatement>().node;
  if (node->type != duckdb::QueryNodeType::SELECT_NODE)
    throw Error::Internal("a planned scan is not a SELECT");
  return std::move(node->Cast<duckdb::SelectNode>().from_table);
}

void PlannedResolver::PreparePlan(duckdb::unique_ptr<duckdb::LogicalOperator>& plan) {
  PrepareGovernedPlan(*plan);
}

void PlannedResolver::VerifyPlan(duckdb::LogicalOperator& plan, const std::string& copy_target) {
  CheckPlan(plan, reads_.files, copy_target);
}

}  // namespace tarn::governance
