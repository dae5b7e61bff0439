// Resource limits: SET LIMIT, RESET LIMIT and SHOW LIMITS.
#include <algorithm>
#include <map>

#include "common/error.h"
#include "governance/policy_statements.h"
#include "identity/directory.h"

namespace tarn::governance {

namespace {

using engine::TokenReader;

constexpr int64_t kMinMemory = 16 << 20;

// One of kLimitNames (case-insensitive), in lower case; kInvalidArgument otherwise.
std::string LimitName(const std::string& raw) {
  std::string name = duckdb::StringUtil::Lower(raw);
  if (std::find(kLimitNames.begin(), kLimitNames.end(), name) == kLimitNames.end()) {
    throw Error::InvalidArgument(
        "unknown limit '{}': use statement_timeout, result_rows, result_bytes, concurrent_statements or "
        "memory",
        raw.substr(0, 64));
  }
  return name;
}

}  // namespace

// See policy.h; the upper bounds are `most` below.
int64_t ParseLimitValue(const std::string& name, const std::string& text) {
  std::string t = duckdb::StringUtil::Lower(duckdb::StringUtil::Replace(text, " ", ""));
  size_t digits = 0;
  while (digits < t.size() && std::isdigit(static_cast<unsigned char>(t[digits]))) digits++;
  std::string unit = t.substr(digits);
  std::map<std::string, int64_t> units = {{"", 1}};
  if (name == "statement_timeout") units = {{"", 1}, {"s", 1}, {"m", 60}, {"h", 3600}};
  bool bytes = name == "result_bytes" || name == "memory";
  if (bytes) {
    units = {{"", 1},       {"b", 1},         {"kb", 1000},    {"mb", 1000000}, {"gb", 1000000000},
             {"kib", 1024}, {"mib", 1 << 20}, {"gib", 1 << 30}};
  }
  auto u = units.find(unit);
  if (digits == 0 || digits > 12 || u == units.end()) {
    throw Error::InvalidArgument("invalid value '{}' for {}: use a positive whole number{}",
                                 text.substr(0, 64), name,
                                 name == "statement_timeout" ? " of seconds, or with s, m or h ('30s', '5m')"
                                 : bytes                     ? " of bytes, or with KB, MB or GB ('64MB')"
                                                             : "");
  }
  // At most 30 days for a timeout (it becomes nanoseconds on the server's clock) and
  // 2^53 for the rest (exact in JSON): anything larger is a typo, not a limit.
  const int64_t most = name == "statement_timeout" ? int64_t{30} * 24 * 3600 : int64_t{1} << 53;
  int64_t number = std::stoll(t.substr(0, digits));  // at most 12 digits: fits
  if (number > most / u->second) {
    throw Error::InvalidArgument("'{}' for {} is too large: at most {}{}", text.substr(0, 64), name, most,
                                 name == "statement_timeout" ? " seconds (30 days)"
                                 : bytes                     ? " bytes"
                                                             : "");
  }
  int64_t value = number * u->second;
  if (value <= 0) throw Error::InvalidArgument("{} must be positive", name);
  if (name == "memory" && value < kMinMemory) throw Error::InvalidArgument("memory must be at least 16MiB");
  return value;
}

namespace {

// SET LIMIT name = value FOR grantee / RESET LIMIT name FOR grantee (the reader past
// LIMIT): replaces (or removes) the grantee's setting.
bool SetOrResetLimit(StatementContext& ctx, bool set) {
  TokenReader& r = ctx.reader;
  const char* usage = set ? kSetLimitUsage : kResetLimitUsage;
  std::string name = LimitName(r.Identifier(usage));
  int64_t value = 0;
  if (set) {
    r.ExpectSymbol('=', usage);
    value = ParseLimitValue(name, r.Literal(usage));
  }
  r.ExpectWord("FOR", usage);
  Grantee g = ReadGrantee(r, usage);
  r.ExpectEnd(usage);
  ctx.RequireAdmin(set ? "SET LIMIT" : "RESET LIMIT");
  ctx.Change([&] {
    ctx.store().Execute("DELETE FROM principal_limits WHERE grantee_kind = ? AND grantee = ? AND name = ?",
                        {std::string(GranteeKindName(g.kind)), g.name, name});
    if (set) {
      ctx.store().Execute(
          "INSERT INTO principal_limits (grantee_kind, grantee, name, value) VALUES (?, ?, ?, ?)",
          {std::string(GranteeKindName(g.kind)), g.name, name, value});
    }
  });
  ctx.out.status = set ? fmt::format("{} = {} for {}", name, value, g.ToString())
                       : fmt::format("{} reset for {}", name, g.ToString());
  return true;
}

}  // namespace

bool ExecuteSetLimit(StatementContext& ctx) {
  return SetOrResetLimit(ctx, true);
}

bool ExecuteResetLimit(StatementContext& ctx) {
  return SetOrResetLimit(ctx, false);
}

// The effective limits of the caller (or, for administrators, of another user), and
// for an administrator asking about itself every setting as well.
bool ExecuteShowLimits(StatementContext& ctx) {
  TokenReader& r = ctx.reader;
  const char* usage = "SHOW LIMITS [FOR USER name]";
  Subject who = ctx.subject();
  if (r.AcceptWords({"FOR", "USER"})) {
    std::string user = identity::CheckPrincipalName(r.Identifier(usage), "user");
    if (user != ctx.principal().user) {
      ctx.RequireAdmin("SHOW LIMITS FOR another user");
      who = ctx.SubjectOf(user);
    }
  }
  r.ExpectEnd(usage);
  StatementOutput& out = ctx.out;
  out.names = {"limit", "value", "decided_by"};
  auto limits = EffectiveLimits(ctx.policy(), who);
  for (auto& name : kLimitNames) {
    auto it = limits.values.find(name);
    if (it == limits.values.end()) {
      out.rows.push_back({Text(name), duckdb::Value(duckdb::LogicalType::BIGINT), Text("server default")});
    } else {
      out.rows.push_back({Text(name), duckdb::Value::BIGINT(it->second.value), Text(it->second.source)});
    }
  }
  if (ctx.subject().admin && who.principal.user == ctx.principal().user) {  // and every setting
    for (auto& l : ctx.policy().limits) {
      out.rows.push_back(
          {Text(l.name), duckdb::Value::BIGINT(l.value), Text("set for " + l.grantee.ToString())});
    }
  }
  return true;
}

}  // namespace tarn::governance
