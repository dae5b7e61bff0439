// Engine: the DuckDB database instance Tarn executes SQL on, and its connections.
//
// An Engine owns one in-memory DuckDB instance configured as a sandbox: the engine
// may open files only under the directories listed in EngineOptions (the lake and
// the spill directory), installs and loads no extension (only the statically
// built-in parquet, json, icu and core_functions exist), and never resolves a
// string literal such as FROM 'file.parquet' to a file. Table names that DuckDB
// does not know are handed to the TableResolver set on the connection (see
// table_resolver.h); with none set, such names are simply unknown.
//
// Errors: every DuckDB failure leaves the engine as a tarn::Error (see
// ToError); a query stopped by Cancel() fails with kCancelled.
//
// Thread-safety: Engine is thread-safe. An EngineConnection is used by one thread
// at a time, except Cancel(), which any thread may call.
#pragma once

#include <duckdb.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "engine/table_resolver.h"

namespace tarn::engine {

struct EngineOptions {
  // DuckDB memory limit such as "4GB"; empty keeps DuckDB's default (80% of RAM).
  std::string memory_limit;
  // Worker threads; 0 uses every core.
  int threads = 0;
  // Where operators spill when memory runs short. Must be one of allowed_directories.
  std::filesystem::path temp_directory;
  // The only directories the engine may read or write. Must exist.
  std::vector<std::filesystem::path> allowed_directories;
};

class EngineConnection;

// What the engine spent on a connection's queries (see EngineConnection::Measure).
struct EngineUsage {
  // Time the engine's operators ran, summed over its threads (DuckDB's profiler
  // CPU_TIME): close to the CPU time the queries took.
  double cpu_seconds = 0;
  // The most memory the engine's buffer pool held at the end of any of the queries'
  // pipelines. The pool is the engine's, shared with whatever else ran at the time:
  // an upper bound on these queries' own use.
  int64_t peak_memory_bytes = 0;
};

class Engine {
 public:
  explicit Engine(const EngineOptions& options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // A new connection with its own transaction state and no resolver.
  std::unique_ptr<EngineConnection> Connect();

  const EngineOptions& options() const { return options_; }

 private:
  EngineOptions options_;
  duckdb::unique_ptr<duckdb::DuckDB> db_;
};

class EngineConnection {
 public:
  explicit EngineConnection(duckdb::DuckDB& db);
  ~EngineConnection();

  // Names in this connection's SQL that DuckDB does not know go to `resolver`.
  void SetTableResolver(std::shared_ptr<TableResolver> resolver);

  // Runs trusted SQL written by Tarn itself (never user text) and returns the
  // materialized result. Throws tarn::Error on failure.
  duckdb::unique_ptr<duckdb::MaterializedQueryResult> Run(const std::string& sql);
  // Runs a parsed statement and returns the materialized result.
  duckdb::unique_ptr<duckdb::MaterializedQueryResult> Run(duckdb::unique_ptr<duckdb::SQLStatement> statement);
  // Runs a parsed statement and returns a streaming result (one active per connection).
  duckdb::unique_ptr<duckdb::QueryResult> Stream(duckdb::unique_ptr<duckdb::SQLStatement> statement);
  // Names and types a SELECT would produce, without running it.
  void Describe(duckdb::unique_ptr<duckdb::SQLStatement> statement, std::vector<std::string>& names,
                std::vector<duckdb::LogicalType>& types);
  // As Describe, but the resolver's VerifyPlan sees the bound plan with unused
  // columns removed and nothing else optimized: what it learns depends on the
  // statement's names and structure only, never on statistics or data (EXPLAIN
  // ACCESS). The optimized plan is not verified again; it never runs.
  void DescribeStructure(duckdb::unique_ptr<duckdb::SQLStatement> statement, std::vector<std::string>& names,
                         std::vector<duckdb::LogicalType>& types);

  // From now on (on) or no longer (off), every query on this connection is profiled
  // and what it spent adds up in the usage TakeUsage returns. Profiling costs a little
  // per operator: only callers that report resource use turn it on. Resets the usage.
  void Measure(bool on);
  // The usage added up since Measure(true) or the last TakeUsage, which resets it.
  EngineUsage TakeUsage();

  // Stops the query running on this connection, if any; it fails with kCancelled.
  void Cancel();

  // While the returned guard lives, statements on this connection skip the
  // resolver's plan verification: for SQL Tarn builds itself (statistics, schema
  // inference), never for anything holding user SQL.
  class TrustedScope {
   public:
    explicit TrustedScope(EngineConnection& c);
    ~TrustedScope();
    TrustedScope(const TrustedScope&) = delete;
    TrustedScope& operator=(const TrustedScope&) = delete;

   private:
    EngineConnection& conn_;
  };
  TrustedScope Trusted() { return TrustedScope(*this); }

  duckdb::Connection& raw() { return conn_; }

  // Engine-internal per-connection state (defined in engine.cpp).
  struct State;

 private:
  friend int64_t WriteParquetFile(EngineConnection&, duckdb::unique_ptr<duckdb::QueryNode>,
                                  const std::filesystem::path&, const struct ParquetOptions&);
  // Refuses a statement that was planned without passing plan verification.
  void CheckVerified();

  duckdb::Connection conn_;
  duckdb::shared_ptr<State> state_;
};

// Converts a DuckDB error into a tarn::Error with a code that fits its type.
Error ToError(const duckdb::ErrorData& error);
// Throws the tarn::Error for a failed result; returns if it succeeded.
void ThrowIfError(duckdb::QueryResult& result);

// Parses SQL text with DuckDB's parser. Throws kInvalidArgument with the parser's
// message on a syntax error.
std::vector<duckdb::unique_ptr<duckdb::SQLStatement>> Parse(const std::string& sql);

// Runs `query` on `conn` and writes its rows to `file` as snappy-compressed Parquet
// (snappy: cheap to start, which matters for many small files such as job results;
// the statement is built as a tree, never by pasting text). Returns the row count.
// `file` must lie inside the engine's allowed directories.
enum class ParquetCompression { kSnappy, kZstd };

struct ParquetOptions {
  // Encrypt under this key (one the engine was given, lake::Keyring); "": do not.
  std::string key_name;
  // Parquet field ids of top-level columns, by column name.
  std::vector<std::pair<std::string, int64_t>> field_ids;
  // Non-empty: `file` is a directory, and each distinct value of these columns goes to
  // <col>=<value>/<file_prefix>_<i>.parquet under it (values escaped; the columns stay
  // in the files).
  std::vector<std::string> partition_by;
  std::string file_prefix;
  // Snappy: fast to write and read (tables). Zstd: about half the bytes for 20 % more
  // time to write (a split run's shuffle, which crosses the shared filesystem twice).
  ParquetCompression compression = ParquetCompression::kSnappy;
};
int64_t WriteParquetFile(EngineConnection& conn, duckdb::unique_ptr<duckdb::QueryNode> query,
                         const std::filesystem::path& file, const ParquetOptions& options = {});

// Quotes an identifier / a string literal for DuckDB SQL.
std::string QuoteIdent(const std::string& name);
std::string QuoteString(const std::string& value);

}  // namespace tarn::engine
