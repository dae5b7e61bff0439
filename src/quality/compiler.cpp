// The pipeline compiler's core: parsing the spec, the relations and their common
// table expressions, and the script and explain text.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "common/error.h"
#include "common/util.h"
#include "quality/column_demand.h"
#include "quality/compilation.h"
#include "quality/compiler.h"
#include "quality/expr_functions.h"
#include "quality/lineage.h"

namespace tarn::quality {

// --- Relation ------------------------------------------------------------------

std::vector<std::string> Relation::Names() const {
  std::vector<std::string> out;
  for (auto& c : columns) out.push_back(c.name);
  return out;
}

std::string Relation::Find(const std::string& name, const Spec& spec, const std::string& field) const {
  std::string why;
  auto names = Names();
  if (const std::string* c = MatchColumn(names, name, why)) return *c;
  spec.Fail(field, why);
}

std::string ColumnList(const std::vector<std::string>& names, const std::string& alias) {
  std::string out;
  for (auto& n : names) out += (out.empty() ? "" : ", ") + (alias.empty() ? "" : alias + ".") + QuoteName(n);
  return out;
}

// --- Pipeline --------------------------------------------------------------------

namespace {

struct ParsedStep {
  std::string name;
  std::string op;
  int line = 0;
  YAML::Node options;
};

const StepType* FindType(const std::string& op) {
  for (auto& t : StepTypeList()) {
    if (op == t->name()) return t.get();
  }
  return nullptr;
}

}  // namespace

class Pipeline {
 public:
  std::string source;
  std::string name;
  std::vector<std::pair<std::string, Spec>> inputs;
  std::vector<ParsedStep> steps;
  std::string summary;  // the step whose rows are the run's result ("": the last compare's summary)
};

std::shared_ptr<const Pipeline> ParsePipeline(const std::string& text, const std::string& source) {
  YAML::Node root = LoadSpec(text, source, 4 << 20);
  auto p = std::make_shared<Pipeline>();
  p->source = source;
  Spec top(root, source);
  top.OnlyFields({"name", "description", "inputs", "steps", "summary"});
  p->name = top.Text("name", "pipeline");
  p->summary = top.Text("summary");
  std::set<std::string> names;
  if (!top.Has("inputs") || !root["inputs"].IsMap() || root["inputs"].size() == 0)
    top.Fail("inputs", "must map at least one name to a table (inputs: {ledger: {table: finance.ledger}})");
  for (auto it = root["inputs"].begin(); it != root["inputs"].end(); ++it) {
    std::string name = it->first.Scalar();
    Spec in(it->second, fmt::format("{}: input '{}'", source, name));
    if (!IsName(name) || name.find("__") != std::string::npos)
      in.Fail("", "an input's name is letters, digits and single '_' (at most 64)");
    if (!names.insert(name).second) in.Fail("", "the name is used twice");
    p->inputs.emplace_back(name, in);
  }
  if (!top.Has("steps") || !root["steps"].IsSequence() || root["steps"].size() == 0)
    top.Fail("steps", "must be a list of at least one step");
  if (root["steps"].size() > 500) top.Fail("steps", "a pipeline has at most 500 steps");
  for (auto node : root["steps"]) {
    Spec s(node, source + ": a step");
    if (!node.IsMap()) s.Fail("", "a step is a map: {name: ..., <type>: {options}}");
    ParsedStep step;
    step.line = node.Mark().line + 1;
    step.name = s.Text("name", "", true);
    Spec named(node, fmt::format("{}: step '{}'", source, step.name.substr(0, 64)));
    if (!IsName(step.name) || step.name.find("__") != std::string::npos)
      named.Fail("name", "a step's name is letters, digits and single '_' (at most 64)");
    if (!names.insert(step.name).second) named.Fail("name", "the name is used twice");
    for (auto it = node.begin(); it != node.end(); ++it) {
      std::string key = it->first.Scalar();
      if (key == "name" || key == "description") continue;
      if (!step.op.empty())
        named.Fail(key, fmt::format("a step does one thing: it already is a {}", step.op));
      if (!FindType(key)) {
        std::string list;
        for (auto& t : StepTypes()) list += (list.empty() ? "" : ", ") + t;
        named.Fail(key, fmt::format("no step type '{}' (types: {})", key.substr(0, 64), list));
      }
      step.op = key;
      step.options = it->second;
    }
    if (step.op.empty()) named.Fail("", "says no step type (filter:, derive:, lookup:, ...)");
    p->steps.push_back(std::move(step));
  }
  if (!p->summary.empty() && !names.count(p->summary.substr(0, p->summary.find('.'))))
    top.Fail("summary", "names no step (a step, or a part of one such as rec.summary)");
  return p;
}

const Relation& StepContext::Input(const std::string& field, bool fallback_previous) {
  std::string name = spec_.Text(field);
  if (name.empty()) {
    if (!fallback_previous || c_.previous_.empty())
      spec_.Fail(field, "is required: name an input or an earlier step");
    name = c_.previous_;
  }
  return Named(name, field);
}

const Relation& StepContext::Named(const std::string& name, const std::string& field) {
  const Relation* r = c_.Lookup(name);
  if (!r) spec_.Fail(field, fmt::format("names no input or earlier step: '{}'", name.substr(0, 64)));
  return *r;
}

const Relation& StepContext::Add(const std::string& sql, const std::vector<const Relation*>& from,
                                 const std::string& part) {
  std::string full = part.empty() ? name_ : name_ + "." + part;
  const Relation& r = c_.AddRelation(full, sql, from);
  if (part.empty()) {
    c_.previous_ = full;
    c_.out_.steps.push_back({name_, op_, line_, sql, r.columns, ""});
  }
  return r;
}

void StepContext::RowWise(const Relation& out, const Relation& in,
                          const std::map<std::string, std::string>& same) {
  c_.lineage_.RowWise(out.index, in.index, same);
  c_.ctes_[out.index].row_of = in.index;
}

void StepContext::OnKeys(const Relation& out, const Relation& left, const std::vector<std::string>& lk,
                         const Relation& right, const std::vector<std::string>& rk) {
  c_.lineage_.OnKeys(out.index, left.index, lk, left.columns, right.index, rk, right.columns);
}

std::map<std::string, std::string> StepContext::AllBut(const Relation& in,
                                                       const std::set<std::string>& except) {
  std::map<std::string, std::string> same;
  for (auto& c : in.columns) {
    if (!except.count(c.name)) same[c.name] = c.name;
  }
  return same;
}

void StepContext::Check(const std::string& sql, const std::vector<const Relation*>& from,
                        const std::string& note) {
  c_.Statement(CompiledStatement::kCheck, "", sql, from, note);
}

void StepContext::Output(const std::string& head, const std::string& query,
                         const std::vector<const Relation*>& from, const std::string& note,
                         const std::string& tail) {
  c_.Statement(CompiledStatement::kOutput, head, query, from, note, tail);
}

std::string StepContext::Expr(const std::string& formula, const std::vector<std::string>& columns,
                              ExprMode mode, const std::string& field, const WindowSpec* window,
                              std::set<std::string>* used, AggregateParts* parts) const {
  int line = spec_.Line(field);
  return CompileExpr(
      formula, columns, mode,
      fmt::format("{}{}, field '{}'", spec_.where(), line > 0 ? fmt::format(" line {}", line) : "", field),
      window, used, parts);
}

bool StepContext::SplitsAggregates() const {
  return c_.split_aggregates_;
}

const Relation& StepContext::AddPartial(const std::string& sql, const Relation& in) {
  const Relation& r = Add(sql, {&in}, "partial");
  c_.ctes_[r.index].partial_of = in.index;
  return r;
}

const Relation& StepContext::AddByParts(const std::function<std::string(const std::string& from)>& sql,
                                        const Relation& in) {
  if (!SplitsAggregates()) return Add(sql(in.cte), {&in});
  const Relation& partial = AddPartial(sql(in.cte), in);
  return Add(sql(partial.cte), {&partial});
}

bool StepContext::TableExists(const std::string& table) {
  try {
    c_.probe_.Describe("SELECT * FROM " + table + " LIMIT 0");
    return true;
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kNotFound) return false;
    throw;
  }
}

std::vector<Column> StepContext::Describe(const std::string& query,
                                          const std::vector<const Relation*>& from) {
  return c_.probe_.Describe(c_.With(Compilation::Needs(from), "SELECT * FROM (" + query + ") LIMIT 0"));
}

std::vector<std::string> StepContext::Values(const std::string& query,
                                             const std::vector<const Relation*>& from, size_t limit) {
  return c_.probe_.Values(c_.With(Compilation::Needs(from), query), limit);
}

std::vector<FileInputSpec> FileInputs(const Pipeline& p) {
  std::vector<FileInputSpec> out;
  for (auto& [name, spec] : p.inputs) {
    if (spec.Has("file")) out.push_back(ReadFileInput(name, spec));
  }
  return out;
}

CompiledPipeline Compile(const Pipeline& p, SchemaProbe& probe, bool split_aggregates) {
  Compilation c(p, probe, split_aggregates);
  c.out_.name = p.name;
  for (auto& [name, spec] : p.inputs) {
    c.current_step_ = name;
    if (!spec.Has("file")) {
      spec.OnlyFields({"table", "description"});
      c.AddRelation(name, "SELECT * FROM " + spec.Table("table"), {}, true, spec.Text("table"));
      continue;
    }
    FileInputSpec file = ReadFileInput(name, spec);
    c.AddRelation(name, "SELECT * FROM " + QuoteName(file.table), {}, true);
    c.out_.files.push_back(std::move(file));
  }
  c.previous_ = p.inputs.front().first;  // the first step reads the first input unless it says
  for (auto& step : p.steps) {
    c.current_step_ = step.name;
    c.current_op_ = step.op;
    const StepType* type = FindType(step.op);
    Spec spec(step.options, fmt::format("{}: step '{}' ({})", p.source, step.name, step.op));
    auto fields = type->fields();
    spec.OnlyFields(fields);
    StepContext ctx(c, spec, step.name, step.op, step.line);
    type->Compile(ctx);
  }
  // The run's result: the summary step's rows, else the last compare's summary, else nothing.
  std::string summary = p.summary;
  if (summary.empty()) {
    for (auto& s : p.steps) {
      if (s.op == "compare") summary = s.name + ".summary";
    }
  }
  if (!summary.empty() && !c.Lookup(summary))
    Spec(YAML::Node(), p.source).Fail("summary", fmt::format("'{}' names no step or part of one", summary));
  if (const Relation* r = summary.empty() ? nullptr : c.Lookup(summary)) {
    c.current_step_ = summary;
    c.Statement(CompiledStatement::kSummary, "", "SELECT * FROM " + r->cte, {r},
                "the run's result: " + summary);
  }
  c.Finish();
  return c.out_;
}

}  // namespace tarn::quality
