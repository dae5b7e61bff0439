// What a Livy statement's code asks for, decided by the statement's kind without
// ever evaluating anything but SQL.
//
// Tarn runs SQL. A statement of kind "sql" is SQL. Sessions of kind "spark" and
// "pyspark" (what sparkmagic creates) run in a SQL compatibility mode: the probes
// sparkmagic sends after a session starts ("spark", "sqlContext") are answered as
// present, and the exact code sparkmagic generates for a %%sql cell is recognised —
// parsed strictly, character by character — and its query run as SQL; its rows come
// back as Spark's toJSON lines. Any other code is refused as unsupported.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace tarn::livy {

enum class Kind { kSql, kShared, kSpark, kPySpark };

// "sql", "shared", "spark"/"scala", "pyspark"/"python" (Livy's names and aliases);
// nullopt for anything else (including "sparkr"/"r", which Tarn does not serve).
std::optional<Kind> ParseKind(const std::string& name);
const char* KindName(Kind kind);

struct Code {
  enum class Action {
    kSql,          // run `sql`; the last statement's rows as Livy's application/json table
    kJsonLines,    // run `sql`; rows as toJSON text lines (a sparkmagic %%sql cell)
    kProbe,        // a session probe ("spark", "sqlContext"): answer that it exists
    kUnsupported,  // anything else in a Spark-language session
  };
  Action action = Action::kUnsupported;
  std::string sql;
  // kJsonLines: at most this many rows (nullopt: collect() — every row).
  std::optional<int64_t> take;
  // kJsonLines: .sample(False, fraction) — each row kept with this probability.
  std::optional<double> sample;
  std::string probe;  // kProbe: the name probed
};

// What `code`, sent as a statement of kind `kind` (the statement's own kind, else
// the session's), asks for.
Code Interpret(Kind kind, const std::string& code);

}  // namespace tarn::livy
