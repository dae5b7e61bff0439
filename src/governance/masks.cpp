// Column masks: ALTER TABLE db.t ALTER COLUMN c SET MASK <expression> [EXEMPT ...] |
// DROP MASK.
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/util.h"
#include "governance/policy_statements.h"

namespace tarn::governance {

namespace {

using engine::TokenReader;

// DROP MASK (the reader at DROP): kNotFound if `column` has none.
void DropMask(StatementContext& ctx, const catalog::TableInfo& table, const std::string& column,
              const std::string& where) {
  TokenReader& r = ctx.reader;
  r.AcceptWords({"DROP", "MASK"});
  r.ExpectEnd(kAlterUsage);
  int64_t n = 0;
  ctx.Change([&] {
    n = ctx.store().Execute("DELETE FROM column_masks WHERE table_id = ? AND column_name = ?",
                            {table.id, column});
  });
  if (n == 0) throw Error::NotFound("{} has no mask", where);
  ctx.out.status = "dropped the mask of " + where;
}

// SET MASK <expression> [EXEMPT USER|GROUP|ROLE name, ...] (the reader at SET):
// replaces the column's mask once the expression works on the table.
void SetMask(StatementContext& ctx, const catalog::TableInfo& table, const std::string& column,
             const std::string& where) {
  TokenReader& r = ctx.reader;
  r.AcceptWords({"SET", "MASK"});
  std::string expression = r.TextUntil({"EXEMPT"});
  if (expression.empty()) r.Fail(kAlterUsage);
  nlohmann::json exempt = nlohmann::json::array();
  if (r.AcceptWord("EXEMPT")) {
    do {
      Grantee g = ReadGrantee(r, kAlterUsage);
      exempt.push_back({{"kind", GranteeKindName(g.kind)}, {"name", g.name}});
    } while (r.AcceptSymbol(','));
  }
  r.ExpectEnd(kAlterUsage);
  ctx.TryExpression(table, expression, "the column mask", false);
  ctx.Change([&] {
    ctx.store().Execute("DELETE FROM column_masks WHERE table_id = ? AND column_name = ?",
                        {table.id, column});
    ctx.store().Execute(
        "INSERT INTO column_masks (table_id, column_name, expression, exempt_json, created_by, created_at) "
        "VALUES "
        "(?, ?, ?, ?, ?, ?)",
        {table.id, column, expression, exempt.dump(), ctx.me, NowUtc()});
  });
  ctx.out.status = "set the mask of " + where;
}

}  // namespace

// ALTER TABLE db.t ALTER COLUMN c SET MASK ... | DROP MASK; anything else after the
// name (a table without a column included) is not a mask statement.
bool ExecuteAlterColumnMask(StatementContext& ctx) {
  TokenReader& r = ctx.reader;
  auto target = ReadAlterTarget(r);
  if (!target || target->column.empty()) return false;
  bool set = r.PeekWord("SET") && r.PeekWord("MASK", 1);
  bool drop = r.PeekWord("DROP") && r.PeekWord("MASK", 1);
  if (!set && !drop) return false;
  const std::string& column = target->column;
  auto table = ctx.governor.RequireTable(target->db, target->table, "DESCRIBE", "ALTER TABLE");
  // The right first (ownership), then the column.
  ctx.RequireOwner(table, "setting a column mask");
  ctx.RequireColumns(table, {column});
  std::string where = table.QualifiedName() + "." + column;
  if (drop) {
    DropMask(ctx, table, column, where);
  } else {
    SetMask(ctx, table, column, where);
  }
  return true;
}

}  // namespace tarn::governance
