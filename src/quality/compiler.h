// Internals of the pipeline compiler (quality/pipeline.h): the spec reader that names
// step, field and line in every error, the relations steps read and make, and the
// StepType interface each step type implements (a new step type is a new StepType in
// StepTypeList(), not a new branch).
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "quality/expr.h"
#include "quality/pipeline.h"

namespace tarn::quality {

// A step's options, read with errors that say where: "<source> line N: step 's',
// field 'f': ...".
class Spec {
 public:
  Spec(YAML::Node node, std::string where) : node_(std::move(node)), where_(std::move(where)) {}

  const YAML::Node& node() const { return node_; }
  bool Has(const std::string& field) const { return node_.IsMap() && node_[field] && !node_[field].IsNull(); }
  int Line(const std::string& field = "") const;
  // kInvalidArgument "<where> line N, field 'f': <why>".
  [[noreturn]] void Fail(const std::string& field, const std::string& why) const;
  // Refuses any field not in `known`.
  void OnlyFields(const std::set<std::string>& known) const;
  std::string Text(const std::string& field, const std::string& fallback = "", bool required = false) const;
  bool Bool(const std::string& field, bool fallback) const;
  // One of `allowed` (fallback when absent).
  std::string Choice(const std::string& field, const std::vector<std::string>& allowed,
                     const std::string& fallback) const;
  // A list of texts, or a single text as a list of one.
  std::vector<std::string> List(const std::string& field, bool required = false) const;
  // A map of text to text in document order; a list of names maps each to itself (and
  // its {a: b} entries a to b).
  std::vector<std::pair<std::string, std::string>> Pairs(const std::string& field,
                                                         bool required = false) const;
  // A nested spec (a map).
  Spec Child(const std::string& field) const;
  // The database.table `field` names, checked (letters, digits, '_') and quoted:
  // "db"."t". kInvalidArgument otherwise.
  std::string Table(const std::string& field) const;
  // A scalar as SQL literal text: numbers as written, true/false, else a quoted string.
  std::string Literal(const std::string& field) const;
  const std::string& where() const { return where_; }

 private:
  YAML::Node node_;
  std::string where_;
};

// A named result a step can read: an input, a step, or a step's part (rec.breaks).
struct Relation {
  std::string cte;    // its common table expression's name, quoted
  std::string table;  // an input that is a table: its name (db.table); else ""
  std::vector<Column> columns;
  size_t index = 0;        // its CTE's
  std::set<size_t> needs;  // indices of the CTEs it is built from, itself included
  std::vector<std::string> Names() const;
  // The column named `name` (case-insensitive if unambiguous), or kInvalidArgument via spec.Fail.
  std::string Find(const std::string& name, const Spec& spec, const std::string& field) const;
};

class Compilation;

// Reads input `name`'s spec when it names a file ({file, format, sheet, range, types}).
FileInputSpec ReadFileInput(const std::string& name, const Spec& spec);

// What a step's compiler works with.
class StepContext {
 public:
  StepContext(Compilation& c, Spec spec, std::string name, std::string op, int line)
      : c_(c), spec_(std::move(spec)), name_(std::move(name)), op_(std::move(op)), line_(line) {}

  const Spec& spec() const { return spec_; }
  const std::string& name() const { return name_; }
  // The relation `field` names (`fallback_previous`: the previous step's when absent).
  const Relation& Input(const std::string& field, bool fallback_previous = true);
  // The relation called `name` (an input, an earlier step or part), named in `field`.
  const Relation& Named(const std::string& name, const std::string& field);
  // Adds the step's result: `sql` reads the relations `from` by their cte names.
  // `part` names a part ("" for the step itself, "breaks" for rec.breaks).
  const Relation& Add(const std::string& sql, const std::vector<const Relation*>& from,
                      const std::string& part = "");
  // Lineage, for splitting statements by key (quality/lineage.h): `out` (a result of
  // this step) is made row for row from `in`, the columns `same` (out's name -> in's)
  // unchanged; or `out` pairs rows of `left` and `right` only where `lk` equals `rk`.
  void RowWise(const Relation& out, const Relation& in, const std::map<std::string, std::string>& same);
  void OnKeys(const Relation& out, const Relation& left, const std::vector<std::string>& lk,
              const Relation& right, const std::vector<std::string>& rk);
  // `same` for a step that keeps every column of `in` but `except` as they are.
  static std::map<std::string, std::string> AllBut(const Relation& in,
                                                   const std::set<std::string>& except = {});
  // A check statement over `from`: `sql` must fail (DuckDB's error()) when the check does not hold.
  void Check(const std::string& sql, const std::vector<const Relation*>& from, const std::string& note);
  // An output statement: `head` (CREATE TABLE x AS, INSERT INTO x, COPY () then the
  // query over `from`, then `tail` (") TO 'file'").
  void Output(const std::string& head, const std::string& query, const std::vector<const Relation*>& from,
              const std::string& note, const std::string& tail = "");
  // A formula over `over`'s columns, naming this step and `field` in errors (`parts`:
  // in two steps, expr.h).
  std::string Expr(const std::string& formula, const std::vector<std::string>& columns, ExprMode mode,
                   const std::string& field, const WindowSpec* window = nullptr,
                   std::set<std::string>* used = nullptr, AggregateParts* parts = nullptr) const;
  // Whether aggregates are computed in two statements (Compile's split_aggregates).
  bool SplitsAggregates() const;
  // The step's part "partial": partial aggregates over `in` (`sql`), computed in a
  // statement of their own that may be split by the parts of `in`'s files; the step's
  // result combines them.
  const Relation& AddPartial(const std::string& sql, const Relation& in);
  // A step whose result over `in` is `sql(in)` and equally `sql` over the union of
  // `sql` of parts of `in` (the top rows, one row per key, the distinct rows): when the
  // step splits aggregates, `sql` per part as `<step>.partial` (AddPartial), then over
  // those; else one statement.
  const Relation& AddByParts(const std::function<std::string(const std::string& from)>& sql,
                             const Relation& in);
  // Whether `table` (database.table) exists for the submitter.
  bool TableExists(const std::string& table);
  // The columns of `query` over `from` (bound as the submitter).
  std::vector<Column> Describe(const std::string& query, const std::vector<const Relation*>& from);
  // The first column of `query` over `from` (bound and run as the submitter).
  std::vector<std::string> Values(const std::string& query, const std::vector<const Relation*>& from,
                                  size_t limit);

 private:
  Compilation& c_;
  Spec spec_;
  std::string name_;
  std::string op_;
  int line_;
};

class StepType {
 public:
  virtual ~StepType() = default;
  virtual const char* name() const = 0;
  // The fields the step's options may have (besides `input` where it reads one).
  virtual std::set<std::string> fields() const = 0;
  virtual void Compile(StepContext& step) const = 0;
};

// Every step type, in documentation order (steps_*.cpp add theirs).
const std::vector<std::unique_ptr<StepType>>& StepTypeList();
std::unique_ptr<StepType> MakeFilter();
std::unique_ptr<StepType> MakeDerive();
std::unique_ptr<StepType> MakeSelect();
std::unique_ptr<StepType> MakeRename();
std::unique_ptr<StepType> MakeSort();
std::unique_ptr<StepType> MakeDedupe();
std::unique_ptr<StepType> MakeUnion();
std::unique_ptr<StepType> MakeAggregate();
std::unique_ptr<StepType> MakeWindow();
std::unique_ptr<StepType> MakeJoin();
std::unique_ptr<StepType> MakeLookup();
std::unique_ptr<StepType> MakePivot();
std::unique_ptr<StepType> MakeUnpivot();
std::unique_ptr<StepType> MakeCompare();
std::unique_ptr<StepType> MakeOutput();

// 1-64 of letters, digits and '_', not starting with a digit: an input, step, database
// or table name.
bool IsName(const std::string& s);

// A spec's YAML (or JSON) document. kInvalidArgument "<source> line N: not valid YAML:
// ..." or for a text longer than `max_bytes`.
YAML::Node LoadSpec(const std::string& text, const std::string& source, size_t max_bytes);

// "a", "b" quoted and comma-separated, each qualified by `alias` ("l" gives l."a").
std::string ColumnList(const std::vector<std::string>& names, const std::string& alias = "");

// An aggregate of `in` by `group` whose one-step query is `one`: that statement; or,
// when the step splits aggregates and `parts` holds the partials of every value,
// partial aggregates by `group` (AddPartial) and `combined` (the values' combinations)
// over them, cast to the one-step types.
void AddAggregate(StepContext& step, const Relation& in, const std::vector<std::string>& group,
                  const std::string& one, const AggregateParts& parts, const std::string& combined);

}  // namespace tarn::quality
