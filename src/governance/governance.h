// Governance: authorizes every statement a caller runs and rewrites what it reads.
//
// A Governor belongs to one session. It is the session's engine::TableResolver, so
// every catalog table a statement names reaches the engine only through it:
//   1. CheckQuery() walks the parsed statement before DuckDB binds it and refuses
//      anything but catalog tables, CTEs and an allow-list of harmless table
//      functions (no file readers, no DuckDB metadata, no dynamic SQL);
//   2. Resolve() answers each table name with a *governed scan*: the table's files,
//      projected to the columns the caller may read, with row filters applied and
//      masked or filtered-out cells replaced inside the scan (so no user predicate
//      ever sees a value its filter hides);
//   3. VerifyPlan() checks the optimized plan: it may read only the files this
//      statement's governed scans named and harmless table functions.
// Catalog and policy statements are authorized through the Require*/Visible*
// methods, and the governance statements (GRANT, REVOKE, data filters, masks,
// tags, roles, SHOW GRANTS, EXPLAIN ACCESS) run through Execute().
//
// Errors: kPermissionDenied ("access denied: ...") for what the caller may know
// about but not do; kNotFound, worded as for a missing object, for what it may not
// know about. docs/GOVERNANCE.md states the rules.
//
// Thread-safety: one thread at a time (the session's).
#pragma once

#include <duckdb.hpp>
#include <duckdb/parser/statement/select_statement.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "engine/table_resolver.h"
#include "governance/policy.h"
#include "identity/principal.h"

namespace tarn::governance {

struct StatementContext;  // policy_statements.h

// "access denied: <what>" as kPermissionDenied: the one way refusals are worded.
Error Denied(const std::string& what);

// What one statement read or wrote, for the audit trail.
struct Resource {
  std::string table;   // db.table, or system.audit
  std::string access;  // read or write
  int64_t rows = -1;   // a write's rows changed (DELETE, UPDATE, MERGE), if known
  std::set<std::string> columns;
  std::vector<std::string> filters;  // data filters / row restrictions applied
  std::vector<std::string> masks;    // masked columns
  int64_t bytes = 0;                 // size of the files its scans cover
};

// A query's governed reads, for running the query elsewhere (a Slurm node, see
// planned_resolver.h): the governed scan each name the engine resolved stands for,
// as SQL, and the files those scans read.
struct PlannedReads {
  std::map<std::string, std::string> scans;  // ResolverKey(schema, table) -> governed scan
  std::map<std::string, std::string> files;  // file -> db.table
};

// Rows produced by a governance statement (SHOW GRANTS, EXPLAIN ACCESS, ...), or a
// status line for one that changes the policy.
struct StatementOutput {
  std::vector<std::string> names;
  std::vector<std::vector<duckdb::Value>> rows;
  std::string status;
  bool policy_change = false;
};

// A table as the caller may see it (DESCRIBE, the REST catalog routes).
struct TableView {
  catalog::TableInfo table;  // with only the columns the caller may see
  // min / max / null_count of the columns in StatsColumns(table), by column.
  std::map<std::string, nlohmann::json> stats;
  // The current snapshot (its row, file and byte counts), only for a caller with
  // statistics on some column, i.e. one who reads every row of the table.
  std::optional<catalog::SnapshotInfo> snapshot;
};

// The schema under which a row change's query names its target (BeginRowChange).
inline constexpr const char* kRowChangeSchema = "__tarn_change";

class Governor : public engine::TableResolver {
 public:
  // `audit_dir` holds the audit segments system.audit reads.
  Governor(catalog::Catalog& catalog, store::MetaStore& store, std::filesystem::path audit_dir);
  ~Governor() override;

  // Who the next statements run for.
  void SetPrincipal(const identity::Principal& principal);
  const Subject& subject() const { return subject_; }

  // A new statement starts: takes the newest policy and forgets what the previous
  // statement touched.
  void BeginStatement();
  // What the current statement touched, set aside (the governor is then as at the
  // statement's start, under the same policy) while a later statement is checked
  // ahead of its turn (Session: an offload computing it with this one's tasks), and
  // put back by Restore.
  struct StatementState;
  std::shared_ptr<StatementState> SetAside();
  void Restore(std::shared_ptr<StatementState> state);
  const std::vector<Resource>& resources() const { return resources_; }
  // The governed reads of the statement resolved last. kUnsupported if it read what
  // only this server can: information_schema, system.audit, temporary tables, row
  // changes, encrypted tables (their keys stay here).
  PlannedReads Planned() const;
  // The governed reads of table `key` (a key of Planned().scans) divided by its data
  // files, for several tasks to share (a split query's map stage, scale/partition_plan.h):
  // at most `parts` parts, the files dealt round robin, each the table's governed scan
  // over its files (their deletes applied) and the files it opens. A temporary table
  // the nodes computed (AddTempTable `shared`) is divided by its files likewise. Empty
  // if `key` is neither or has fewer than 2 data files.
  std::vector<PlannedReads> PlannedParts(const std::string& key, size_t parts) const;

  // 1. The pre-bind check of a query (SELECT, or the source of INSERT / CREATE
  // TABLE AS). May rewrite names that Tarn serves itself (information_schema.*,
  // system.audit).
  void CheckQuery(duckdb::SelectStatement& query);

  // The run's temporary tables (CREATE TEMP TABLE): `name` (any case) is read from
  // the Parquet `file` by the statements after it, as `name` or `temp.name`, until
  // ClearTempTables. Only the session that made them knows them.
  void AddTempTable(const std::string& name, const std::filesystem::path& file) {
    AddTempTable(name, std::vector<std::filesystem::path>{file});
  }
  // A temporary table whose rows are `files` together (a query computed by buckets).
  // `shared`: the files are in the lake where Slurm nodes read them (an offloaded
  // query's result), so reading the table does not keep a query on this server.
  void AddTempTable(const std::string& name, const std::vector<std::filesystem::path>& files,
                    bool shared = false);
  bool HasTempTable(const std::string& name) const;
  void ClearTempTables();

  // Governance statements; nullopt if `text` is not one.
  std::optional<StatementOutput> Execute(const std::string& text);

  // Catalog authorization. Each throws kPermissionDenied or kNotFound. An empty
  // database privilege checks only that the caller may know the database.
  void RequireSystem(const std::string& privilege, const std::string& what);
  void RequireDatabase(const std::string& database, const std::string& privilege, const std::string& what);
  // The table, if the caller holds `privilege` on it (SELECT: any read).
  catalog::TableInfo RequireTable(const std::string& database, const std::string& table,
                                  const std::string& privilege, const std::string& what);
  // Wraps the rows an INSERT writes into `table` so that the statement fails (and
  // writes nothing) if one lies outside the caller's row filter; checks INSERT (and
  // DELETE for an overwrite).
  duckdb::unique_ptr<duckdb::SelectStatement> GuardWrite(const catalog::TableInfo& table,
                                                         duckdb::unique_ptr<duckdb::SelectStatement> query,
                                                         bool overwrite);
  // For statements that replace every row of a table (ROLLBACK TABLE): INSERT and
  // DELETE on it and no row filter. Records the write for the audit.
  catalog::TableInfo RequireReplace(const std::string& database, const std::string& table,
                                    const std::string& what);
  // For statements that copy every stored value (CLONE): the caller must read every
  // row and column of the table, unmasked. Records the read.
  catalog::TableInfo RequireFullRead(const std::string& database, const std::string& table,
                                     const std::string& what);
  // Row-level changes (DELETE, UPDATE, MERGE) of a managed table. BeginRowChange
  // checks what `change` needs (DELETE to remove rows, UPDATE on every SET column,
  // INSERT to add rows), that the caller may read every SET column unmasked, and
  // that no expression of the statement (`used`, parsed) names a column masked for
  // the caller (as `alias`.col or bare); records the write. The statement's query
  // then names the table as kRowChangeSchema.<table>: the rows the caller may see,
  // with the columns it reads unmasked, plus __tarn_file and __tarn_row (the row's
  // file, by index into RowChangeTarget::files, and its row number in that file).
  struct RowChange {
    bool removes = false;
    std::vector<std::string> set_columns;
    bool inserts = false;
    std::string what;  // DELETE, UPDATE, MERGE: for messages
  };
  catalog::TableInfo BeginRowChange(const std::string& database, const std::string& table,
                                    const RowChange& change,
                                    const std::vector<const duckdb::ParsedExpression*>& used,
                                    const std::string& alias);
  // What the statement's query read of the table: the snapshot (table.snapshot_id),
  // its files (absolute paths, in __tarn_file order), and the condition rows written
  // must meet (the caller's row filter as SQL over the table's columns; "" if none).
  struct RowChangeTarget {
    catalog::TableInfo table;
    std::vector<std::string> files;
    std::string row_check;
  };
  const RowChangeTarget& row_change_target() const;
  // The rows a statement changed, for the audit record of its write.
  void RecordRowsChanged(const catalog::TableInfo& table, int64_t rows);
  // The creator of a database or table holds ALL on it WITH GRANT OPTION.
  void GrantOwnership(ObjectKind kind, int64_t id, const std::string& name);
  // Inside the transaction of a drop (a catalog::Catalog::DropHook): removes the
  // grants on what was dropped, its tables' data filters (and grants on them),
  // column masks and tag assignments, as a new policy version.
  void ForgetDropped(const catalog::Catalog::Dropped& dropped, const std::string& statement);
  // Inside the transaction of ALTER TABLE (a catalog::Catalog::SchemaHook): a renamed
  // column's grants, data filters (column lists and row filters), mask and tags follow
  // it; a dropped one's mask and tags go and grants of it alone go. Refuses
  // (kInvalidArgument) to drop a column a row filter or another column's mask uses.
  void ColumnChanged(const catalog::TableInfo& table, const catalog::SchemaChange& change,
                     const std::string& statement);

  // Metadata the caller may see (catalog_view.cpp).
  std::vector<std::string> VisibleDatabases();
  std::vector<catalog::TableInfo> VisibleTables(const std::string& database);
  // The table with only the columns the caller may see; kNotFound if it may not.
  catalog::TableInfo VisibleTable(const std::string& database, const std::string& table);

  // Columns whose statistics (min, max, null count) the caller may see: readable,
  // unmasked columns of a table it reads without a row filter; else none.
  std::set<std::string> StatsColumns(const catalog::TableInfo& table);
  // VisibleTable with the statistics and snapshot the caller may see.
  TableView DescribeTable(const std::string& database, const std::string& table);

  // The caller's resource limits (SET LIMIT), as of the newest policy. With
  // `for_next_statement` (the Runner, right before it runs a statement) that
  // statement's checks use the same policy read, if it begins within 100 ms.
  Limits CallerLimits(bool for_next_statement = false);

  // Turns an engine error about a column hidden from the caller into the right
  // answer: "not found" stays, unless the caller may describe the table.
  Error Explain(const Error& error);

  // engine::TableResolver
  duckdb::unique_ptr<duckdb::TableRef> Resolve(const std::string& schema, const std::string& table) override;
  void Reset() override;
  void PreparePlan(duckdb::unique_ptr<duckdb::LogicalOperator>& plan) override;
  void VerifyPlan(duckdb::LogicalOperator& plan, const std::string& copy_target) override;

 private:
  struct Scan;
  TableAccess Access(const catalog::TableInfo& table);
  Resource& ResourceFor(const std::string& table, const std::string& access);
  duckdb::unique_ptr<duckdb::TableRef> InformationSchema(const std::string& view);
  duckdb::unique_ptr<duckdb::TableRef> AuditScan();
  duckdb::unique_ptr<duckdb::TableRef> TempScan(const std::string& name);
  duckdb::unique_ptr<duckdb::TableRef> RowChangeScan(const std::string& name);
  // The caller's row filter on `table` as SQL with the subject bound ("" if it reads every row).
  std::string RowFilterSql(const catalog::TableInfo& table, const TableAccess& access);
  // The governance statements (policy_statements.h) reach the Governor through it.
  friend struct StatementContext;

  // EXPLAIN ACCESS of `query` for the caller or, administrators only, `for_user`
  // (explain_access.cpp).
  StatementOutput ExplainAccess(const std::string& query, const std::optional<std::string>& for_user);
  // The subject of directory user `user` (kNotFound if there is none).
  Subject SubjectOf(const std::string& user);
  // kNotFound unless every column exists and the caller may see it.
  void RequireColumns(const catalog::TableInfo& table, const std::vector<std::string>& columns);
  // Checks that an expression binds against the table (kInvalidArgument if not).
  void TryExpression(const catalog::TableInfo& table, const std::string& expression, const char* what,
                     bool as_filter);

  catalog::Catalog& catalog_;
  store::MetaStore& store_;
  std::filesystem::path audit_dir_;
  PolicyStore policy_store_;
  PolicyCache cache_;
  std::shared_ptr<const Policy> policy_;
  // Set by CallerLimits(true): the next BeginStatement() (within 100 ms) keeps policy_.
  bool policy_fresh_ = false;
  std::chrono::steady_clock::time_point policy_read_{};
  identity::Principal principal_;
  Subject subject_;
  // Per statement.
  std::vector<Resource> resources_;
  std::map<std::string, std::unique_ptr<Scan>> scans_;    // by db.table
  std::map<std::string, std::string> shared_temp_scans_;  // this statement's reads of shared temporary tables
  std::map<std::string, std::string> files_;              // file the scans read -> db.table
  std::set<std::string> local_reads_;                     // what the statement read that only this server can
  std::vector<PlannedReads> TempParts(const std::string& key, size_t parts) const;
  std::map<std::string, std::vector<std::string>> temp_tables_;  // the run's temporary tables: name -> files
  std::set<std::string> shared_temp_tables_;                     // those in the lake (AddTempTable)
  std::optional<RowChange> row_change_;                          // this statement's, if it changes rows
  std::optional<RowChangeTarget> row_change_target_;
  bool explain_mode_ = false;  // EXPLAIN ACCESS: scans expose readable columns raw
  std::optional<Subject> explain_subject_;
};

}  // namespace tarn::governance
