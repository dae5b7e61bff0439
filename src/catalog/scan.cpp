#include "catalog/scan.h"

#include <duckdb/parser/expression/cast_expression.hpp>
#include <duckdb/parser/expression/columnref_expression.hpp>
#include <duckdb/parser/expression/constant_expression.hpp>
#include <duckdb/parser/expression/star_expression.hpp>
#include <duckdb/parser/query_node/select_node.hpp>
#include <duckdb/parser/tableref/emptytableref.hpp>
#include <duckdb/parser/tableref/subqueryref.hpp>

#include "common/error.h"

namespace tarn::catalog {

namespace {

std::string ReaderCall(const TableInfo& table, const std::vector<std::string>& files) {
  std::string list;
  for (auto& f : files) list += (list.empty() ? "" : ", ") + engine::QuoteString(f);
  std::string hive = table.partition_columns.empty() ? "false" : "true";
  switch (table.format) {
    case lake::Format::kParquet: return "read_parquet([" + list + "], hive_partitioning = " + hive + ")";
    case lake::Format::kCsv: return "read_csv([" + list + "], hive_partitioning = " + hive + ")";
    case lake::Format::kJson: return "read_json([" + list + "], hive_partitioning = " + hive + ")";
  }
  throw Error::Internal("unknown format");
}

// SELECT CAST(<expr_i> AS type_i) AS name_i, ... FROM <from>, built as a tree.
duckdb::unique_ptr<duckdb::SelectStatement> Project(const std::vector<Column>& schema,
                                                    duckdb::unique_ptr<duckdb::TableRef> from) {
  auto node = duckdb::make_uniq<duckdb::SelectNode>();
  for (auto& c : schema) {
    auto type = duckdb::TransformStringToLogicalType(c.type);
    duckdb::unique_ptr<duckdb::ParsedExpression> child;
    if (from) {
      child = duckdb::make_uniq<duckdb::ColumnRefExpression>(c.name);
    } else {
      child = duckdb::make_uniq<duckdb::ConstantExpression>(duckdb::Value());
    }
    auto cast = duckdb::make_uniq<duckdb::CastExpression>(type, std::move(child));
    cast->alias = c.name;
    node->select_list.push_back(std::move(cast));
  }
  if (from) {
    node->from_table = std::move(from);
  } else {
    node->from_table = duckdb::make_uniq<duckdb::EmptyTableRef>();
    node->where_clause = duckdb::make_uniq<duckdb::ConstantExpression>(duckdb::Value::BOOLEAN(false));
  }
  auto stmt = duckdb::make_uniq<duckdb::SelectStatement>();
  stmt->node = std::move(node);
  return stmt;
}

}  // namespace

duckdb::unique_ptr<duckdb::SelectStatement> ParseSelect(const std::string& sql) {
  auto statements = engine::Parse(sql);
  if (statements.size() != 1 || statements[0]->type != duckdb::StatementType::SELECT_STATEMENT) {
    throw Error::Internal("Tarn's SQL did not parse as one SELECT");
  }
  return duckdb::unique_ptr_cast<duckdb::SQLStatement, duckdb::SelectStatement>(std::move(statements[0]));
}

duckdb::unique_ptr<duckdb::SelectStatement> RawScanStatement(const TableInfo& table,
                                                             const std::vector<std::string>& files) {
  return ParseSelect("SELECT * FROM " + ReaderCall(table, files));
}

duckdb::unique_ptr<duckdb::SelectStatement> CountStatement(const TableInfo& table,
                                                           const std::vector<std::string>& files) {
  return ParseSelect("SELECT count(*) FROM " + ReaderCall(table, files));
}

std::string LiveRowsSql(const TableInfo& table, const std::vector<std::string>& files,
                        const std::vector<DeleteFile>& deletes, bool positions) {
  // The rows at the positions the delete files list are left out (merge-on-read).
  std::string sql = "SELECT r.*";
  if (positions) sql += ", r.file_index AS __tarn_file, r.file_row_number AS __tarn_row";
  sql += " FROM " + ReaderCall(table, files) + " r";
  if (!deletes.empty()) {
    std::string targets, paths;
    for (auto& d : deletes) {
      targets += fmt::format("{}{}", targets.empty() ? "" : ", ", d.data_index);
      paths += (paths.empty() ? "" : ", ") + engine::QuoteString(d.path);
    }
    sql += fmt::format(
        " ANTI JOIN (SELECT ([{}])[file_index::BIGINT + 1] AS f, __tarn_pos FROM read_parquet([{}])) d ON d.f = "
        "r.file_index AND d.__tarn_pos = r.file_row_number",
        targets, paths);
  }
  return sql;
}

duckdb::unique_ptr<duckdb::TableRef> ScanRef(const TableInfo& table, const std::vector<std::string>& files,
                                             const std::vector<DeleteFile>& deletes, bool positions) {
  duckdb::unique_ptr<duckdb::TableRef> ref;
  if (files.empty()) {
    ref = duckdb::make_uniq<duckdb::SubqueryRef>(Project(table.schema, nullptr));
  } else if (table.format == lake::Format::kParquet && (positions || !deletes.empty())) {
    ref = duckdb::make_uniq<duckdb::SubqueryRef>(ParseSelect(LiveRowsSql(table, files, deletes, positions)));
  } else if (table.format == lake::Format::kParquet) {
    auto select = RawScanStatement(table, files);
    ref = std::move(select->node->Cast<duckdb::SelectNode>().from_table);
  } else {
    auto raw = RawScanStatement(table, files);
    auto from = std::move(raw->node->Cast<duckdb::SelectNode>().from_table);
    ref = duckdb::make_uniq<duckdb::SubqueryRef>(Project(table.schema, std::move(from)));
  }
  ref->alias = table.name;
  return ref;
}

}  // namespace tarn::catalog
