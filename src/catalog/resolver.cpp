#include "catalog/resolver.h"

#include "catalog/scan.h"
#include "common/error.h"

namespace tarn::catalog {

duckdb::unique_ptr<duckdb::TableRef> CatalogResolver::Resolve(const std::string& schema,
                                                              const std::string& table) {
  if (schema.empty()) {
    throw Error::NotFound(
        "table '{}' does not exist: name tables as database.table (SHOW DATABASES lists them)",
        table.size() > 80 ? table.substr(0, 80) + "..." : table);
  }
  auto info = catalog_.GetTable(schema, table);
  auto key = info.QualifiedName();
  auto it = pinned_.find(key);
  if (it == pinned_.end()) {
    it = pinned_.emplace(key, ScanRef(info, catalog_.FilesToScan(info))).first;
  }
  return it->second->Copy();
}

}  // namespace tarn::catalog
