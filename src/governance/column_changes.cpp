// What a column rename or drop (ALTER TABLE, catalog::Catalog::AlterSchema) does to
// the policy that names the column: Governor::ColumnChanged.
#include <duckdb/parser/expression/columnref_expression.hpp>
#include <duckdb/parser/parsed_expression_iterator.hpp>
#include <duckdb/parser/parser.hpp>

#include <functional>

#include "common/error.h"
#include "governance/governance.h"

namespace tarn::governance {

namespace {

void EachColumnRef(duckdb::ParsedExpression& e, const std::function<void(duckdb::ColumnRefExpression&)>& f) {
  if (e.GetExpressionClass() == duckdb::ExpressionClass::COLUMN_REF) f(e.Cast<duckdb::ColumnRefExpression>());
  duckdb::ParsedExpressionIterator::EnumerateChildren(
      e, [&](duckdb::ParsedExpression& child) { EachColumnRef(child, f); });
}

// Whether policy expression `text` names column `from`; with `to` it is rewritten to
// name `to` instead.
bool Names(std::string& text, const std::string& from, const std::string& to = "") {
  auto list = duckdb::Parser::ParseExpressionList(text);
  bool found = false;
  for (auto& e : list) {
    EachColumnRef(*e, [&](duckdb::ColumnRefExpression& c) {
      if (c.column_names.size() != 1 || duckdb::StringUtil::Lower(c.column_names[0]) != from) return;
      found = true;
      if (!to.empty()) c.column_names[0] = to;
    });
  }
  if (found && !to.empty() && list.size() == 1) text = list[0]->ToString();
  return found;
}

// A column list (JSON) after the change: `from` renamed `to`, or with `to` empty
// dropped from a list of granted columns (an EXCEPT list keeps the name: a later
// column of that name stays excluded). nullopt: the list is unchanged.
std::optional<nlohmann::json> ChangedList(const std::string& text, bool except, const std::string& from,
                                          const std::string& to) {
  auto list = nlohmann::json::parse(text);
  nlohmann::json out = nlohmann::json::array();
  bool changed = false;
  for (auto& c : list) {
    if (c.get<std::string>() != from) {
      out.push_back(c);
    } else if (!to.empty() || except) {
      out.push_back(to.empty() ? c : nlohmann::json(to));
      changed = changed || !to.empty();
    } else {
      changed = true;
    }
  }
  if (!changed) return std::nullopt;
  return out;
}

}  // namespace

void Governor::ColumnChanged(const catalog::TableInfo& table, const catalog::SchemaChange& change,
                             const std::string& statement) {
  using K = catalog::SchemaChange;
  if (change.kind != K::kRenameColumn && change.kind != K::kDropColumn) return;
  const std::string& from = change.column;
  std::string to = change.kind == K::kRenameColumn ? change.new_name : "";
  std::string where = fmt::format("column {} of {}", from, table.QualifiedName());
  // Row filters and masks are expressions over the columns: a rename rewrites them; a
  // column one of them uses cannot be dropped (the rule would silently change).
  auto refuse = [&](const std::string& what) {
    throw Error::InvalidArgument("{} is used by {}: change or drop that first, then drop the column", where,
                                 what);
  };
  for (auto& r : store_.Query(
           "SELECT id, name, row_filter, columns_json, columns_except FROM data_filters WHERE table_id = ?",
           {table.id})) {
    if (!r.IsNull(2)) {
      std::string text = r.Str(2);
      if (Names(text, from, to)) {
        if (to.empty()) refuse("the row filter of data filter " + r.Str(1));
        store_.Execute("UPDATE data_filters SET row_filter = ? WHERE id = ?", {text, r.Int(0)});
      }
    }
    if (r.IsNull(3)) continue;
    if (auto list = ChangedList(r.Str(3), r.Int(4) != 0, from, to))
      store_.Execute("UPDATE data_filters SET columns_json = ? WHERE id = ?", {list->dump(), r.Int(0)});
  }
  for (auto& r :
       store_.Query("SELECT column_name, expression FROM column_masks WHERE table_id = ?", {table.id})) {
    std::string column = r.Str(0), text = r.Str(1);
    bool own = column == from;
    if (!Names(text, from, to) && !own) continue;
    if (to.empty() && !own) refuse("the mask of column " + column);
    if (to.empty()) {
      store_.Execute("DELETE FROM column_masks WHERE table_id = ? AND column_name = ?", {table.id, column});
    } else {
      store_.Execute(
          "UPDATE column_masks SET column_name = ?, expression = ? WHERE table_id = ? AND column_name = ?",
          {own ? to : column, text, table.id, column});
    }
  }
  for (auto& r : store_.Query("SELECT id, columns_json, columns_except FROM grants WHERE object_kind = "
                              "'table' AND object_id = ? AND "
                              "columns_json IS NOT NULL",
                              {table.id})) {
    auto list = ChangedList(r.Str(1), r.Int(2) != 0, from, to);
    if (!list) continue;
    if (list->empty() && r.Int(2) == 0) {
      store_.Execute("DELETE FROM grants WHERE id = ?", {r.Int(0)});  // it granted only that column
    } else {
      store_.Execute("UPDATE grants SET columns_json = ? WHERE id = ?", {list->dump(), r.Int(0)});
    }
  }
  if (to.empty()) {
    store_.Execute("DELETE FROM tag_assignments WHERE table_id = ? AND column_name = ?", {table.id, from});
  } else {
    store_.Execute("UPDATE tag_assignments SET column_name = ? WHERE table_id = ? AND column_name = ?",
                   {to, table.id, from});
  }
  policy_store_.RecordChange(principal_.user, statement);
}

}  // namespace tarn::governance
