// Authorization of the statements that change a table's rows (DELETE, UPDATE, MERGE),
// replace them all (ROLLBACK TABLE) or copy them (CLONE).
#include <duckdb/parser/expression/cast_expression.hpp>
#include <duckdb/parser/expression/columnref_expression.hpp>
#include <duckdb/parser/expression/constant_expression.hpp>
#include <duckdb/parser/parsed_expression_iterator.hpp>
#include <duckdb/parser/query_node/select_node.hpp>
#include <duckdb/parser/tableref/subqueryref.hpp>

#include "common/error.h"
#include "governance/internal.h"

namespace tarn::governance {

namespace {

// The engine's names for a Parquet row's place; a table with a column of one of
// these names would shadow them.
const std::set<std::string> kPositionColumns = {"filename", "file_index", "file_row_number", "__tarn_file",
                                                "__tarn_row"};

// Refuses a reference to a masked column of the target (bare, or as alias.col).
void CheckNoMasked(const duckdb::ParsedExpression& e, const std::set<std::string>& names,
                   const std::map<std::string, const ColumnMask*>& masks, const std::string& what) {
  if (e.GetExpressionClass() == duckdb::ExpressionClass::COLUMN_REF) {
    auto& c = e.Cast<duckdb::ColumnRefExpression>();
    std::string col = duckdb::StringUtil::Lower(c.column_names.back());
    bool ours = c.column_names.size() == 1 ||
                (c.column_names.size() == 2 && names.count(duckdb::StringUtil::Lower(c.column_names[0])));
    if (ours && masks.count(col)) {
      throw Denied(
          fmt::format("column {} is masked for you: {} cannot use it to pick or compute rows", col, what));
    }
  }
  duckdb::ParsedExpressionIterator::EnumerateChildren(
      e, [&](const duckdb::ParsedExpression& child) { CheckNoMasked(child, names, masks, what); });
}

duckdb::unique_ptr<duckdb::ParsedExpression> Position(const char* column, bool present) {
  duckdb::unique_ptr<duckdb::ParsedExpression> e;
  if (present) {
    e = duckdb::make_uniq<duckdb::ColumnRefExpression>(column);
  } else {
    e = duckdb::make_uniq<duckdb::ConstantExpression>(duckdb::Value());
  }
  auto cast = duckdb::make_uniq<duckdb::CastExpression>(duckdb::LogicalType::BIGINT, std::move(e));
  cast->alias = column;
  return cast;
}

}  // namespace

catalog::TableInfo Governor::BeginRowChange(const std::string& database, const std::string& table,
                                            const RowChange& change,
                                            const std::vector<const duckdb::ParsedExpression*>& used,
                                            const std::string& alias) {
  auto info = RequireTable(database, table, "DESCRIBE", change.what);  // kNotFound if hidden
  std::string key = info.QualifiedName();
  if (info.kind != catalog::TableKind::kManaged) {
    throw Error::InvalidArgument("{} is an external table: {} changes managed tables only", key, change.what);
  }
  for (auto& c : info.schema) {
    if (kPositionColumns.count(c.name)) {
      throw Error::Unsupported(
          "{} cannot change {}: its column {} has a name the engine reserves for a row's "
          "place in its file",
          change.what, key, c.name);
    }
  }
  auto access = Access(info);
  if (change.removes && !access.privileges.count("DELETE"))
    throw Denied(fmt::format("{} needs DELETE on {}", change.what, key));
  if (change.inserts && !access.privileges.count("INSERT"))
    throw Denied(fmt::format("{} needs INSERT on {}", change.what, key));
  if (access.reads.empty())
    throw Denied(fmt::format("{} changes rows you can read: you may not read {}", change.what, key));
  RequireColumns(info, change.set_columns);
  auto readable = access.ReadableColumns();
  for (auto& c : change.set_columns) {
    if (!access.updates.count(c))
      throw Denied(
          fmt::format("setting column {} needs UPDATE on it (GRANT UPDATE ({}) ON TABLE {} ...)", c, c, key));
    if (!readable.count(c) || access.masks.count(c))
      throw Denied(fmt::format("column {} is {} for you: {} cannot set it", c,
                               readable.count(c) ? "masked" : "not readable", change.what));
  }
  std::set<std::string> names = {info.name, duckdb::StringUtil::Lower(alias)};
  for (auto* e : used) {
    if (e) CheckNoMasked(*e, names, access.masks, change.what);
  }
  auto& res = ResourceFor(key, "write");
  res.columns.insert(change.set_columns.begin(), change.set_columns.end());
  row_change_ = change;
  row_change_target_ = RowChangeTarget{info, {}, RowFilterSql(info, access)};
  return info;
}

duckdb::unique_ptr<duckdb::TableRef> Governor::RowChangeScan(const std::string& name) {
  if (!row_change_target_ || row_change_target_->table.name != name) {
    throw Error::NotFound("table {} does not exist", name.substr(0, 64));
  }
  auto& target = *row_change_target_;
  auto info = catalog_.GetTable(target.table.database, target.table.name);  // the snapshot the change reads
  if (info.schema != target.table.schema) {
    throw Error::Conflict(
        "the columns of {} changed (ALTER TABLE) while this {} was planned; nothing was changed: run it "
        "again",
        info.QualifiedName(), row_change_ ? row_change_->what : std::string("change"));
  }
  auto access = Access(info);
  std::set<std::string> exposed;
  for (auto& c : access.ReadableColumns()) {
    if (!access.masks.count(c)) exposed.insert(c);
  }
  std::string key = info.QualifiedName();
  auto table_scan = catalog_.Scan(info);
  auto& res = ResourceFor(key, "read");
  res.bytes += table_scan->bytes;
  for (auto& f : table_scan->Paths()) files_[f] = key;
  if (!access.ReadsAllRows()) {
    for (auto& term : access.reads) res.filters.push_back(term.source);
  }
  auto raw = catalog::ScanRef(info, table_scan->files, table_scan->deletes, /*positions=*/true,
                              table_scan->keys, table_scan->versions);
  auto ref = GovernedScan(info, std::move(raw), access, subject_, exposed, false);
  auto& node = ref->Cast<duckdb::SubqueryRef>().subquery->node->Cast<duckdb::SelectNode>();
  bool files = !table_scan->files.empty();
  node.select_list.push_back(Position("__tarn_file", files));
  node.select_list.push_back(Position("__tarn_row", files));
  target.table = info;
  target.files = table_scan->files;
  return ref;
}

std::string Governor::RowFilterSql(const catalog::TableInfo& table, const TableAccess& access) {
  return access.ReadsAllRows() ? "" : RowFilter(table, access, subject_)->ToString();
}

const Governor::RowChangeTarget& Governor::row_change_target() const {
  if (!row_change_target_) throw Error::Internal("no row change began");
  return *row_change_target_;
}

void Governor::RecordRowsChanged(const catalog::TableInfo& table, int64_t rows) {
  ResourceFor(table.QualifiedName(), "write").rows = rows;
}

catalog::TableInfo Governor::RequireReplace(const std::string& database, const std::string& table,
                                            const std::string& what) {
  auto info = RequireTable(database, table, "INSERT", what);
  auto access = Access(info);
  std::string key = info.QualifiedName();
  if (!access.privileges.count("DELETE"))
    throw Denied(fmt::format("{} needs INSERT and DELETE on {}", what, key));
  if (!access.reads.empty() && !access.ReadsAllRows())
    throw Denied(fmt::format("{} would replace rows of {} outside your row filter", what, key));
  ResourceFor(key, "write");
  return info;
}

catalog::TableInfo Governor::RequireFullRead(const std::string& database, const std::string& table,
                                             const std::string& what) {
  auto info = RequireTable(database, table, "SELECT", what);
  auto access = Access(info);
  std::set<std::string> all;
  for (auto& c : info.schema) all.insert(c.name);
  if (!Transparent(access, all)) {
    throw Denied(fmt::format(
        "{} copies every row and column of {}: it needs SELECT on all of them without a row filter or mask",
        what, info.QualifiedName()));
  }
  auto& res = ResourceFor(info.QualifiedName(), "read");
  res.columns.insert(all.begin(), all.end());
  return info;
}

}  // namespace tarn::governance
