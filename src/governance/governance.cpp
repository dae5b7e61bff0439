#include "governance/governance.h"

#include <duckdb/parser/expression/case_expression.hpp>
#include <duckdb/parser/expression/constant_expression.hpp>
#include <duckdb/parser/expression/function_expression.hpp>
#include <duckdb/parser/expression/star_expression.hpp>
#include <duckdb/parser/query_node/select_node.hpp>
#include <duckdb/parser/tableref/subqueryref.hpp>
#include <duckdb/planner/logical_operator.hpp>

#include <algorithm>

#include "audit/events.h"
#include "common/error.h"
#include "common/util.h"
#include "engine/engine.h"
#include "governance/internal.h"
#include "governance/planned_resolver.h"

namespace fs = std::filesystem;

namespace tarn::governance {

std::string NoSuchTable(const std::string& db, const std::string& table) {
  auto shorten = [](const std::string& s) { return s.size() > 64 ? s.substr(0, 64) + "..." : s; };
  return fmt::format("table {}.{} does not exist (SHOW TABLES lists the tables you can use)", shorten(db),
                     shorten(table));
}

namespace {

// Parses SQL Tarn wrote itself into a FROM item.
duckdb::unique_ptr<duckdb::TableRef> SubqueryOf(const std::string& sql, const std::string& alias) {
  auto statements = engine::Parse(sql);
  auto select =
      duckdb::unique_ptr_cast<duckdb::SQLStatement, duckdb::SelectStatement>(std::move(statements.at(0)));
  return duckdb::make_uniq<duckdb::SubqueryRef>(std::move(select), alias);
}

// Temporary table `name` as the Parquet `files` it is made of.
duckdb::unique_ptr<duckdb::TableRef> TempRef(const std::string& name, const std::vector<std::string>& files) {
  std::string list;
  for (auto& f : files) list += (list.empty() ? "" : ", ") + engine::QuoteString(f);
  return SubqueryOf("SELECT * FROM read_parquet([" + list + "])", name);
}

std::string Values(const std::vector<std::vector<std::string>>& rows, const std::vector<std::string>& names,
                   const std::vector<std::string>& types) {
  std::string cols, nulls;
  for (size_t i = 0; i < names.size(); i++) {
    cols += (i ? ", " : "") + names[i];
    nulls += (i ? ", " : "") + std::string("NULL::") + types[i];
  }
  if (rows.empty()) return "SELECT * FROM (VALUES (" + nulls + ")) AS v(" + cols + ") WHERE false";
  std::string values;
  for (auto& r : rows) {
    std::string row;
    for (size_t i = 0; i < r.size(); i++) {
      row += (i ? ", " : "") + engine::QuoteString(r[i]) + "::" + types[i];
    }
    values += (values.empty() ? "(" : ", (") + row + ")";
  }
  return "SELECT * FROM (VALUES " + values + ") AS v(" + cols + ")";
}

}  // namespace

Governor::Governor(catalog::Catalog& catalog, store::MetaStore& store, fs::path audit_dir)
    : catalog_(catalog),
      store_(store),
      audit_dir_(std::move(audit_dir)),
      policy_store_(store),
      cache_(policy_store_) {}

Governor::~Governor() = default;

void Governor::SetPrincipal(const identity::Principal& principal) {
  principal_ = principal;
  policy_.reset();
  policy_fresh_ = false;
}

void Governor::BeginStatement() {
  // The policy CallerLimits() just read serves the statement that follows it: one
  // policy version read per statement, and limits and checks agree.
  bool fresh =
      policy_fresh_ && std::chrono::steady_clock::now() - policy_read_ < std::chrono::milliseconds(100);
  if (!fresh || !policy_) {
    policy_ = NarrowForRole(cache_.Current(), principal_);
    subject_ = MakeSubject(principal_, *policy_);
  }
  policy_fresh_ = false;
  resources_.clear();
  scans_.clear();
  files_.clear();
  shared_temp_scans_.clear();
  local_reads_.clear();  // what this statement reads that only the server can
  row_change_.reset();
  row_change_target_.reset();
  explain_mode_ = false;
  explain_subject_.reset();
}

struct Governor::StatementState {
  std::vector<Resource> resources;
  std::map<std::string, std::unique_ptr<Scan>> scans;
  std::map<std::string, std::string> shared_temp_scans, files;
  std::set<std::string> local_reads;
  std::optional<RowChange> row_change;
  std::optional<RowChangeTarget> row_change_target;
  bool explain_mode = false;
  std::optional<Subject> explain_subject;
};

std::shared_ptr<Governor::StatementState> Governor::SetAside() {
  auto state = std::make_shared<StatementState>();
  std::swap(state->resources, resources_);
  std::swap(state->scans, scans_);
  std::swap(state->shared_temp_scans, shared_temp_scans_);
  std::swap(state->files, files_);
  std::swap(state->local_reads, local_reads_);
  std::swap(state->row_change, row_change_);
  std::swap(state->row_change_target, row_change_target_);
  std::swap(state->explain_mode, explain_mode_);
  std::swap(state->explain_subject, explain_subject_);
  return state;
}

void Governor::Restore(std::shared_ptr<StatementState> state) {
  resources_ = std::move(state->resources);
  scans_ = std::move(state->scans);
  shared_temp_scans_ = std::move(state->shared_temp_scans);
  files_ = std::move(state->files);
  local_reads_ = std::move(state->local_reads);
  row_change_ = std::move(state->row_change);
  row_change_target_ = std::move(state->row_change_target);
  explain_mode_ = state->explain_mode;
  explain_subject_ = std::move(state->explain_subject);
}

TableAccess Governor::Access(const catalog::TableInfo& table) {
  if (!policy_) BeginStatement();
  return Evaluate(*policy_, explain_subject_ ? *explain_subject_ : subject_, table, table.database_id);
}

void Governor::CheckQuery(duckdb::SelectStatement& query) {
  if (!policy_) BeginStatement();
  std::set<std::string> temps;
  for (auto& [name, file] : temp_tables_) temps.insert(name);
  CheckQueryTree(query, explain_subject_ ? *explain_subject_ : subject_, explain_subject_ ? nullptr : &temps);
}

void Governor::Reset() {
  scans_.clear();
  files_.clear();
  shared_temp_scans_.clear();
  local_reads_.clear();
}

std::string ResolverKey(const std::string& schema, const std::string& table) {
  std::string s = duckdb::StringUtil::Lower(schema), t = duckdb::StringUtil::Lower(table);
  return s == kAtSchema ? t : s + "." + t;
}

std::string TempTableKey(const std::string& name) {
  return ResolverKey(kTempSchema, name);
}

PlannedReads Governor::Planned() const {
  if (!local_reads_.empty()) {
    throw Error(
        ErrorCode::kUnsupported,
        fmt::format("this query reads {}, which only the server can read: run it on a local application",
                    *local_reads_.begin()));
  }
  PlannedReads out;
  for (auto& [key, scan] : scans_) out.scans[key] = scan->ref->ToString();
  for (auto& [key, scan] : shared_temp_scans_) out.scans[key] = scan;
  out.files = files_;
  return out;
}

std::vector<PlannedReads> Governor::PlannedParts(const std::string& key, size_t parts) const {
  if (shared_temp_scans_.count(key) && !explain_mode_) return TempParts(key, parts);
  auto it = scans_.find(key);
  if (it == scans_.end() || !it->second->files || explain_mode_) return {};
  const Scan& scan = *it->second;
  const auto& whole = *scan.files;
  size_t n = std::min(parts, whole.files.size());
  if (n < 2) return {};
  std::vector<PlannedReads> out(n);
  for (size_t p = 0; p < n; p++) {
    std::vector<std::string> files, keys;
    std::vector<int64_t> versions;
    std::vector<catalog::DeleteFile> deletes;
    std::map<size_t, size_t> index;  // whole's data file -> this part's
    for (size_t i = p; i < whole.files.size(); i += n) {
      index[i] = files.size();
      files.push_back(whole.files[i]);
      if (i < whole.keys.size()) keys.push_back(whole.keys[i]);
      if (i < whole.versions.size()) versions.push_back(whole.versions[i]);
      out[p].files[whole.files[i]] = key;
    }
    for (auto& d : whole.deletes) {
      if (auto at = index.find(d.data_index); at != index.end()) {
        deletes.push_back({at->second, d.path});
        out[p].files[d.path] = key;
      }
    }
    auto raw = catalog::ScanRef(scan.table, files, deletes, false, keys, versions);
    out[p].scans[key] =
        GovernedScan(scan.table, std::move(raw), scan.access, subject_, scan.exposed, false)->ToString();
  }
  return out;
}

// A temporary table's files dealt round robin, each part read as the table is.
std::vector<PlannedReads> Governor::TempParts(const std::string& key, size_t parts) const {
  std::string name = key.substr(std::string(kTempSchema).size() + 1);
  const auto& files = temp_tables_.at(name);
  size_t n = std::min(parts, files.size());
  if (n < 2) return {};
  std::vector<PlannedReads> out(n);
  for (size_t p = 0; p < n; p++) {
    std::vector<std::string> mine;
    for (size_t i = p; i < files.size(); i += n) {
      out[p].files[files[i]] = "temp." + name;
      mine.push_back(files[i]);
    }
    out[p].scans[key] = TempRef(name, mine)->ToString();
  }
  return out;
}

Resource& Governor::ResourceFor(const std::string& table, const std::string& access) {
  for (auto& r : resources_) {
    if (r.table == table && r.access == access) return r;
  }
  resources_.push_back({table, access, -1, {}, {}, {}, 0});
  return resources_.back();
}

duckdb::unique_ptr<duckdb::TableRef> Governor::Resolve(const std::string& raw_schema,
                                                       const std::string& raw_table) {
  if (!policy_) BeginStatement();
  std::string schema = duckdb::StringUtil::Lower(raw_schema);
  std::string name = duckdb::StringUtil::Lower(raw_table);
  bool shared_temp = schema == kTempSchema && shared_temp_tables_.count(name);
  if (schema == kInformationSchema || (schema == kTempSchema && !shared_temp) || schema == kRowChangeSchema ||
      schema == kSystemSchema) {
    local_reads_.insert(schema == kInformationSchema ? "information_schema." + name
                        : schema == kSystemSchema    ? "system." + name
                        : schema == kTempSchema      ? "the temporary table " + name
                                                     : "rows being changed");
  }
  if (schema == kInformationSchema) return InformationSchema(name);
  if (schema == kTempSchema) return TempScan(name);
  if (schema == kRowChangeSchema) return RowChangeScan(name);
  if (schema == kSystemSchema) {
    if (name == "audit") return AuditScan();
    throw Error::NotFound("table system.{} does not exist: the system database has the table audit",
                          name.substr(0, 64));
  }
  if (schema.empty()) {
    throw Error::NotFound(
        "table '{}' does not exist: name tables as database.table (SHOW DATABASES lists them)",
        name.substr(0, 64));
  }
  // The pre-bind check spells db.t AT (...) as a name of kAtSchema (internal.h).
  std::optional<catalog::TimeTravel> at;
  std::string pin = schema == kAtSchema ? name : "";
  if (!pin.empty()) at = DecodeTimeTravel(pin, schema, name);
  std::string key = schema + "." + name;
  auto it = scans_.find(pin.empty() ? key : pin);
  if (it != scans_.end()) return it->second->ref->Copy();

  std::optional<catalog::TableInfo> info;
  try {
    info = catalog_.FindTable(schema, name);
  } catch (const Error&) {  // not a valid identifier: cannot exist
  }
  if (!info) throw Error::NotFound("{}", NoSuchTable(schema, name));
  auto scan = std::make_unique<Scan>();
  scan->table = *info;
  scan->access = Access(*info);
  auto& access = scan->access;
  if (!access.visible) throw Error::NotFound("{}", NoSuchTable(schema, name));
  if (access.reads.empty() && !explain_mode_) {
    throw Denied(fmt::format("you may not read {} (no SELECT grant covers it)", key));
  }
  scan->exposed = access.ReadableColumns();
  if (explain_mode_ && access.describe_all) {
    for (auto& c : info->schema) scan->exposed.insert(c.name);
  }
  if (scan->exposed.empty()) throw Denied(fmt::format("you may not read any column of {}", key));
  if (at) info->snapshot_id = catalog_.SnapshotAt(*info, *at);  // the current policy reads old data too
  scan->transparent = explain_mode_ || Transparent(access, scan->exposed);
  auto table_scan = catalog_.Scan(*info);
  for (auto& k : table_scan->keys) {
    if (!k.empty()) local_reads_.insert("the encrypted table " + key);
  }
  auto& res = ResourceFor(key, "read");
  for (auto& f : table_scan->Paths()) files_[f] = key;
  res.bytes += table_scan->bytes;
  if (!explain_mode_) {
    if (!access.ReadsAllRows()) {
      for (auto& term : access.reads) res.filters.push_back(term.source);
    }
    for (auto& [col, mask] : access.masks) {
      if (scan->exposed.count(col)) res.masks.push_back(col);
    }
    if (table_scan->files.empty()) res.columns.insert(scan->exposed.begin(), scan->exposed.end());
  }
  const Subject& subject = explain_subject_ ? *explain_subject_ : subject_;
  scan->ref = GovernedScan(*info, table_scan->ref->Copy(), access, subject, scan->exposed, explain_mode_);
  scan->files = table_scan;
  auto out = scan->ref->Copy();
  scans_[pin.empty() ? key : pin] = std::move(scan);
  return out;
}

void Governor::PreparePlan(duckdb::unique_ptr<duckdb::LogicalOperator>& plan) {
  PrepareGovernedPlan(*plan);
}

void Governor::VerifyPlan(duckdb::LogicalOperator& plan, const std::string& copy_target) {
  if (plan.type == duckdb::LogicalOperatorType::LOGICAL_EXPLAIN) {
    // A plan's estimates and pruning come from the statistics of every row and raw
    // value in the files, so they are shown only for tables read in full.
    for (auto& [key, scan] : scans_) {
      if (!scan->transparent) {
        throw Denied(fmt::format(
            "EXPLAIN shows statistics of rows and values you may not see in {}; it works on tables you "
            "read in full, without row filter or mask (EXPLAIN ACCESS shows what governs the query)",
            key));
      }
    }
  }
  auto columns = CheckPlan(plan, files_, copy_target);
  // Scans read renamed columns by the names their files store: the audit names them as the table does.
  std::map<std::string, std::map<std::string, std::string>> renamed;
  for (auto& [key, scan] : scans_) {
    for (auto& c : scan->table.schema) {
      if (c.StoredName() != c.name) renamed[scan->table.QualifiedName()][c.StoredName()] = c.name;
    }
  }
  for (auto& [table, cols] : columns) {
    auto& res = ResourceFor(table, "read");
    for (auto& c : cols) {
      auto it = renamed[table].find(c);
      res.columns.insert(it == renamed[table].end() ? c : it->second);
    }
  }
}

// --- catalog authorization -------------------------------------------------------

void Governor::RequireSystem(const std::string& privilege, const std::string& what) {
  if (!policy_) BeginStatement();
  if (SystemPrivilege(*policy_, subject_, privilege).empty()) {
    throw Denied(fmt::format("{} needs the {} privilege (GRANT {} TO USER ...)", what, privilege, privilege));
  }
}

void Governor::RequireDatabase(const std::string& database, const std::string& privilege,
                               const std::string& what) {
  if (!policy_) BeginStatement();
  auto shown = catalog::CheckName(database, "database");
  auto id = catalog_.FindDatabase(shown);
  if (!id) throw Error::NotFound("database {} does not exist (SHOW DATABASES lists them)", shown);
  auto access = EvaluateDatabase(*policy_, subject_, *id);
  bool visible = access.visible;
  if (!visible) {
    for (auto& t : catalog_.ListTables(database)) visible = visible || Access(t).visible;
  }
  if (!visible) throw Error::NotFound("database {} does not exist (SHOW DATABASES lists them)", shown);
  if (!privilege.empty() && !access.privileges.count(privilege)) {
    throw Denied(fmt::format("{} needs {} on database {}", what, privilege, shown));
  }
}

catalog::TableInfo Governor::RequireTable(const std::string& database, const std::string& table,
                                          const std::string& privilege, const std::string& what) {
  auto info = catalog_.FindTable(database, table);  // kInvalidArgument for a malformed name
  if (!info) throw Error::NotFound("{}", NoSuchTable(database, table));
  auto access = Access(*info);
  if (!access.visible) throw Error::NotFound("{}", NoSuchTable(database, table));
  bool ok = privilege == "SELECT"     ? !access.reads.empty()
            : privilege == "DESCRIBE" ? true
                                      : access.privileges.count(privilege) > 0;
  if (!ok) throw Denied(fmt::format("{} needs {} on {}", what, privilege, info->QualifiedName()));
  return *info;
}

duckdb::unique_ptr<duckdb::SelectStatement> Governor::GuardWrite(
    const catalog::TableInfo& table, duckdb::unique_ptr<duckdb::SelectStatement> query, bool overwrite) {
  auto access = Access(table);
  if (!access.visible) throw Error::NotFound("{}", NoSuchTable(table.database, table.name));
  std::string key = table.QualifiedName();
  const char* what = overwrite ? "INSERT OVERWRITE" : "INSERT";
  if (!access.privileges.count("INSERT")) throw Denied(fmt::format("{} needs INSERT on {}", what, key));
  if (overwrite && !access.privileges.count("DELETE")) {
    throw Denied(fmt::format("INSERT OVERWRITE needs INSERT and DELETE on {}", key));
  }
  ResourceFor(key, "write");
  if (access.reads.empty() || access.ReadsAllRows()) return query;
  if (overwrite) {
    throw Denied(fmt::format("INSERT OVERWRITE would replace rows of {} outside your row filter", key));
  }
  // The rows must all pass the caller's row filter, or the statement fails before
  // anything is committed.
  auto when = RowFilter(table, access, subject_);
  auto check = duckdb::make_uniq<duckdb::CaseExpression>();
  duckdb::CaseCheck cc;
  cc.when_expr = std::move(when);
  cc.then_expr = duckdb::make_uniq<duckdb::ConstantExpression>(duckdb::Value::BOOLEAN(true));
  check->case_checks.push_back(std::move(cc));
  duckdb::vector<duckdb::unique_ptr<duckdb::ParsedExpression>> args;
  args.push_back(duckdb::make_uniq<duckdb::ConstantExpression>(duckdb::Value(
      "access denied: the INSERT writes a row outside your row filter on " + key + "; nothing was written")));
  check->else_expr = duckdb::make_uniq<duckdb::FunctionExpression>("error", std::move(args));
  // The filter judges the rows as they will be stored: after the cast to the table's
  // types (99.6 would pass `id < 100` and be stored as 100; a COLLATE NOCASE string
  // would compare case-blind and be stored as written).
  auto node = duckdb::make_uniq<duckdb::SelectNode>();
  node->select_list.push_back(duckdb::make_uniq<duckdb::StarExpression>());
  node->from_table = duckdb::make_uniq<duckdb::SubqueryRef>(
      lake::CastToSchema(std::move(query), table.schema), "__tarn_new");
  node->where_clause = std::move(check);
  auto out = duckdb::make_uniq<duckdb::SelectStatement>();
  out->node = std::move(node);
  ResourceFor(key, "write").filters.push_back("rows checked against the caller's row filter");
  return out;
}

void Governor::GrantOwnership(ObjectKind kind, int64_t id, const std::string& name) {
  policy_store_.GrantOwnership(principal_.user, kind, id, name);
}

void Governor::ForgetDropped(const catalog::Catalog::Dropped& dropped, const std::string& statement) {
  auto kind = [](ObjectKind k) { return std::string(ObjectKindName(k)); };
  if (dropped.database_id) {
    store_.Execute("DELETE FROM grants WHERE object_kind = ? AND object_id = ?",
                   {kind(ObjectKind::kDatabase), *dropped.database_id});
  }
  for (int64_t table : dropped.table_ids) {
    store_.Execute("DELETE FROM grants WHERE object_kind = ? AND object_id = ?",
                   {kind(ObjectKind::kTable), table});
    store_.Execute(
        "DELETE FROM grants WHERE object_kind = ? AND object_id IN (SELECT id FROM data_filters WHERE "
        "table_id = ?)",
        {kind(ObjectKind::kDataFilter), table});
    for (const char* sql :
         {"DELETE FROM data_filters WHERE table_id = ?", "DELETE FROM column_masks WHERE table_id = ?",
          "DELETE FROM tag_assignments WHERE table_id = ?"}) {
      store_.Execute(sql, {table});
    }
  }
  policy_store_.RecordChange(principal_.user, statement);
}

Limits Governor::CallerLimits(bool for_next_statement) {
  policy_fresh_ = false;
  BeginStatement();  // the newest policy
  policy_fresh_ = for_next_statement;
  policy_read_ = std::chrono::steady_clock::now();
  return EffectiveLimits(*policy_, subject_);
}

Error Governor::Explain(const Error& error) {
  std::string msg = error.what();
  if (error.code() == ErrorCode::kInvalidArgument && msg.starts_with("access denied:")) {
    return Error(ErrorCode::kPermissionDenied, msg);
  }
  // Plain string search: std::regex recurses per character and a statement with a
  // very long unknown name overflowed the stack with it.
  static const std::string kPrefix = "Referenced column \"";
  auto at = msg.find(kPrefix);
  auto end = at == std::string::npos ? at : msg.find('"', at + kPrefix.size());
  static const std::string kSuffix = "\" not found";
  if (end != std::string::npos && msg.compare(end, kSuffix.size(), kSuffix) == 0) {
    std::string col = duckdb::StringUtil::Lower(msg.substr(at + kPrefix.size(), end - at - kPrefix.size()));
    for (auto& [key, scan] : scans_) {
      bool exists = std::any_of(scan->table.schema.begin(), scan->table.schema.end(),
                                [&](const catalog::Column& c) { return c.name == col; });
      if (exists && !scan->exposed.count(col) && scan->access.describe_all) {
        return Denied(fmt::format("you may not read column {} of {}", col, scan->table.QualifiedName()));
      }
    }
  }
  return error;
}

// --- tables Tarn serves itself ---------------------------------------------------------

duckdb::unique_ptr<duckdb::TableRef> Governor::InformationSchema(const std::string& view) {
  std::vector<std::vector<std::string>> rows;
  if (view == "schemata") {
    for (auto& db : VisibleDatabases()) rows.push_back({"tarn", db});
    return SubqueryOf(Values(rows, {"catalog_name", "schema_name"}, {"VARCHAR", "VARCHAR"}), view);
  }
  if (view == "tables" || view == "columns") {
    for (auto& db : VisibleDatabases()) {
      for (auto& t : catalog_.ListTables(db)) {
        if (!Access(t).visible) continue;
        if (view == "tables") {
          rows.push_back(
              {"tarn", db, t.name, t.kind == catalog::TableKind::kManaged ? "BASE TABLE" : "EXTERNAL"});
          continue;
        }
        auto visible = VisibleTable(db, t.name);
        int i = 1;
        for (auto& c : visible.schema)
          rows.push_back({"tarn", db, t.name, c.name, std::to_string(i++), c.type});
      }
    }
    if (view == "tables") {
      return SubqueryOf(Values(rows, {"table_catalog", "table_schema", "table_name", "table_type"},
                               {"VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR"}),
                        view);
    }
    return SubqueryOf(Values(rows,
                             {"table_catalog", "table_schema", "table_name", "column_name",
                              "ordinal_position", "data_type"},
                             {"VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "BIGINT", "VARCHAR"}),
                      view);
  }
  throw Error::NotFound(
      "table information_schema.{} does not exist: Tarn serves schemata, tables and columns",
      view.substr(0, 64));
}

void Governor::AddTempTable(const std::string& name, const std::vector<std::filesystem::path>& files,
                            bool shared) {
  std::string lower = duckdb::StringUtil::Lower(name);
  auto& mine = temp_tables_[lower];
  mine.clear();
  for (auto& f : files) mine.push_back(f.string());
  if (shared)
    shared_temp_tables_.insert(lower);
  else
    shared_temp_tables_.erase(lower);
}

bool Governor::HasTempTable(const std::string& name) const {
  return temp_tables_.count(duckdb::StringUtil::Lower(name)) > 0;
}

void Governor::ClearTempTables() {
  temp_tables_.clear();
  shared_temp_tables_.clear();
}

duckdb::unique_ptr<duckdb::TableRef> Governor::TempScan(const std::string& name) {
  auto it = temp_tables_.find(name);
  if (it == temp_tables_.end())
    throw Error::NotFound("temporary table {} does not exist", name.substr(0, 64));
  // The rows were governed when the run wrote them; the run reads them back as they are.
  for (auto& f : it->second) files_[f] = "temp." + name;
  ResourceFor("temp." + name, "read");
  auto ref = TempRef(name, it->second);
  if (shared_temp_tables_.count(name)) shared_temp_scans_[ResolverKey(kTempSchema, name)] = ref->ToString();
  return ref;
}

duckdb::unique_ptr<duckdb::TableRef> Governor::AuditScan() {
  RequireSystem("AUDIT", "reading system.audit");
  std::vector<std::string> files;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(audit_dir_, ec)) {
    auto name = e.path().filename().string();
    if (name.starts_with("audit-") && name.ends_with(".jsonl")) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  std::string columns, nulls;
  for (auto& [name, type] : audit::EventColumns()) {
    columns += (columns.empty() ? "" : ", ") + engine::QuoteString(name) + ": " + engine::QuoteString(type);
    nulls += (nulls.empty() ? "" : ", ") + ("NULL::" + type) + " AS " + engine::QuoteIdent(name);
  }
  auto& res = ResourceFor("system.audit", "read");
  if (files.empty()) return SubqueryOf("SELECT " + nulls + " WHERE false", "audit");
  std::string list;
  for (auto& f : files) {
    list += (list.empty() ? "" : ", ") + engine::QuoteString(f);
    files_[f] = "system.audit";
    res.bytes += static_cast<int64_t>(fs::file_size(f, ec));
  }
  return SubqueryOf("SELECT * FROM read_json([" + list +
                        "], format = 'newline_delimited', ignore_errors = true, columns = {" + columns + "})",
                    "audit");
}

}  // namespace tarn::governance
