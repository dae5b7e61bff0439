// CREATE TAG, DROP TAG, ALTER TABLE ... SET / UNSET TAG and SHOW TAGS.
#include <algorithm>
#include <map>
#include <set>

#include "common/error.h"
#include "common/util.h"
#include "governance/policy_statements.h"

namespace tarn::governance {

using engine::TokenReader;

bool ExecuteCreateTag(StatementContext& ctx) {
  TokenReader& r = ctx.reader;
  const char* usage = "CREATE TAG key VALUES ('v1', 'v2', ...)";
  std::string key = Name(r, "tag", usage);
  r.ExpectWord("VALUES", usage);
  r.ExpectSymbol('(', usage);
  std::vector<std::string> values;
  do {
    values.push_back(r.String(usage));
  } while (r.AcceptSymbol(','));
  r.ExpectSymbol(')', usage);
  r.ExpectEnd(usage);
  ctx.RequireAdmin("CREATE TAG");
  if (ctx.policy().tags.count(key)) throw Error::AlreadyExists("tag {} already exists", key);
  ctx.Change([&] {
    ctx.store().Execute(
        "INSERT INTO tags (tag_key, allowed_values, created_by, created_at) VALUES (?, ?, ?, ?)",
        {key, Json(values), ctx.me, NowUtc()});
  });
  ctx.out.status = fmt::format("created tag {} with {} values", key, values.size());
  return true;
}

bool ExecuteDropTag(StatementContext& ctx) {
  TokenReader& r = ctx.reader;
  std::string key = Name(r, "tag", "DROP TAG key");
  r.ExpectEnd("DROP TAG key");
  ctx.RequireAdmin("DROP TAG");
  if (!ctx.policy().tags.count(key)) throw Error::NotFound("tag {} does not exist", key);
  ctx.Change([&] {
    ctx.store().Execute("DELETE FROM grants WHERE object_kind = 'tag' AND object_name = ?", {key});
    ctx.store().Execute("DELETE FROM tag_assignments WHERE tag_key = ?", {key});
    ctx.store().Execute("DELETE FROM tags WHERE tag_key = ?", {key});
  });
  ctx.out.status = "dropped tag " + key;
  return true;
}

// ALTER TABLE db.t [ALTER COLUMN c] SET TAG key = 'value' | UNSET TAG key. Anything
// else after the name is not a tag statement.
bool ExecuteAlterTableTag(StatementContext& ctx) {
  TokenReader& r = ctx.reader;
  auto target = ReadAlterTarget(r);
  if (!target) return false;
  bool set = r.PeekWord("SET") && r.PeekWord("TAG", 1);
  bool unset = r.PeekWord("UNSET") && r.PeekWord("TAG", 1);
  if (!set && !unset) return false;
  const std::string& column = target->column;
  auto table = ctx.governor.RequireTable(target->db, target->table, "DESCRIBE", "ALTER TABLE");
  // The right first (ALTER), then the column.
  if (!ctx.Access(table).privileges.count("ALTER")) {
    throw Denied(fmt::format("tagging {} needs ALTER on it", table.QualifiedName()));
  }
  if (!column.empty()) ctx.RequireColumns(table, {column});
  std::string where = column.empty() ? table.QualifiedName() : table.QualifiedName() + "." + column;
  r.AcceptWord(set ? "SET" : "UNSET");
  r.AcceptWord("TAG");
  std::string key = Name(r, "tag", kAlterUsage);
  std::string value;
  if (set) {
    r.ExpectSymbol('=', kAlterUsage);
    value = r.String(kAlterUsage);
  }
  r.ExpectEnd(kAlterUsage);
  auto tag = ctx.policy().tags.find(key);
  if (tag == ctx.policy().tags.end())
    throw Error::NotFound("tag {} does not exist (CREATE TAG creates it)", key);
  if (set && std::find(tag->second.begin(), tag->second.end(), value) == tag->second.end()) {
    throw Error::InvalidArgument("'{}' is not a value of tag {} (allowed: {})", value, key,
                                 Joined(tag->second));
  }
  ctx.Change([&] {
    ctx.store().Execute("DELETE FROM tag_assignments WHERE table_id = ? AND column_name = ? AND tag_key = ?",
                        {table.id, column, key});
    if (set) {
      ctx.store().Execute(
          "INSERT INTO tag_assignments (table_id, column_name, tag_key, tag_value) VALUES (?, ?, ?, ?)",
          {table.id, column, key, value});
    }
  });
  ctx.out.status = set ? fmt::format("tagged {} with {} = '{}'", where, key, value)
                       : fmt::format("removed tag {} from {}", key, where);
  return true;
}

bool ExecuteShowTags(StatementContext& ctx) {
  ctx.reader.ExpectEnd("SHOW TAGS");
  StatementOutput& out = ctx.out;
  const Policy& policy = ctx.policy();
  out.names = {"tag", "values"};
  if (ctx.subject().admin) {
    for (auto& [k, v] : policy.tags) out.rows.push_back({Text(k), Text(Joined(v))});
    return true;
  }
  // Everyone else sees a tag as far as they see what carries it: the values on
  // tables and columns visible to them, and those their own grants name.
  std::map<std::string, std::set<std::string>> seen;
  for (auto& a : policy.tag_assignments) {
    auto table = ctx.catalog().FindTableById(a.table_id);
    if (!table) continue;
    auto access = ctx.Access(*table);
    if (!access.visible) continue;
    if (!a.column.empty() && !access.describe_all && !access.ReadableColumns().count(a.column)) continue;
    seen[a.key].insert(a.value);
  }
  for (auto& g : policy.grants) {
    if (g.object_kind != ObjectKind::kTag || !ctx.subject().Is(g.grantee)) continue;
    seen[g.object_name].insert(g.tag_values.begin(), g.tag_values.end());
  }
  for (auto& [k, values] : seen) {
    out.rows.push_back({Text(k), Text(Joined(std::vector<std::string>(values.begin(), values.end())))});
  }
  return true;
}

}  // namespace tarn::governance
