// CatalogResolver: resolves table names in a connection's SQL to catalog tables.
//
// Plugged into an engine connection (engine::TableResolver), it answers
// "sales.orders" with a scan of that table's current snapshot, pinned for the rest
// of the statement so that a table read twice in one statement is read at one
// snapshot. Unqualified and unknown names fail with kNotFound and a hint.
//
// Thread-safety: used by the one thread running the connection's statement.
#pragma once

#include <map>
#include <string>

#include "catalog/catalog.h"
#include "engine/table_resolver.h"

namespace tarn::catalog {

class CatalogResolver : public engine::TableResolver {
 public:
  explicit CatalogResolver(Catalog& catalog) : catalog_(catalog) {}

  duckdb::unique_ptr<duckdb::TableRef> Resolve(const std::string& schema, const std::string& table) override;
  void Reset() override { pinned_.clear(); }

 private:
  Catalog& catalog_;
  std::map<std::string, duckdb::unique_ptr<duckdb::TableRef>> pinned_;
};

}  // namespace tarn::catalog
