// Row and column steps: filter, derive, select, rename, sort, dedupe, union,
// aggregate, window, and output.
#include <fmt/format.h>

#include <algorithm>
#include <regex>

#include "common/error.h"
#include "engine/engine.h"
#include "quality/compiler.h"
#include "quality/expr_functions.h"

namespace tarn::quality {

namespace {

// "col", "col desc", "col asc" entries of `field`: each column as it is in `in`, and
// whether it is descending.
std::vector<std::pair<std::string, bool>> OrderEntries(const StepContext& step, const Relation& in,
                                                       const std::string& field) {
  std::vector<std::pair<std::string, bool>> out;
  for (auto& entry : step.spec().List(field)) {
    std::string name = entry;
    bool desc = false;
    auto space = entry.find_last_of(' ');
    if (space != std::string::npos) {
      std::string word = entry.substr(space + 1);
      for (auto& ch : word) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (word == "desc" || word == "asc") {
        desc = word == "desc";
        name = entry.substr(0, entry.find_last_not_of(' ', space) + 1);
      }
    }
    out.emplace_back(in.Find(name, step.spec(), field), desc);
  }
  return out;
}

// The entries as an ORDER BY list.
std::string OrderBy(const std::vector<std::pair<std::string, bool>>& entries) {
  std::string out;
  for (auto& [col, desc] : entries)
    out += (out.empty() ? "" : ", ") + QuoteName(col) + (desc ? " DESC" : " ASC");
  return out;
}

// `field`'s entries as an ORDER BY list over `in`.
std::string OrderList(const StepContext& step, const Relation& in, const std::string& field) {
  return OrderBy(OrderEntries(step, in, field));
}

// The columns `field` names, as they are in `in`.
std::vector<std::string> Columns(const StepContext& step, const Relation& in, const std::string& field,
                                 bool required = false) {
  std::vector<std::string> out;
  for (auto& name : step.spec().List(field, required)) out.push_back(in.Find(name, step.spec(), field));
  return out;
}

class Filter : public StepType {
 public:
  const char* name() const override { return "filter"; }
  std::set<std::string> fields() const override { return {"input", "where"}; }
  void Compile(StepContext& step) const override {
    const Relation& in = step.Input("input");
    std::string where = step.Expr(step.spec().Text("where", "", true), in.Names(), ExprMode::kRow, "where");
    step.RowWise(step.Add(fmt::format("SELECT * FROM {} WHERE {}", in.cte, where), {&in}), in,
                 StepContext::AllBut(in));
  }
};

// New or replaced columns. A formula may use a column an earlier one of the same step
// made: the step then nests a SELECT per such dependency.
class Derive : public StepType {
 public:
  const char* name() const override { return "derive"; }
  std::set<std::string> fields() const override { return {"input", "columns"}; }
  void Compile(StepContext& step) const override {
    const Relation& in = step.Input("input");
    std::vector<std::string> visible = in.Names();
    std::string from = in.cte;
    std::vector<std::pair<std::string, std::string>> layer;  // name, sql
    auto flush = [&] {
      if (layer.empty()) return;
      std::string replaced, added;
      for (auto& [name, sql] : layer) {
        bool exists = std::find(visible.begin(), visible.end(), name) != visible.end();
        (exists ? replaced : added) +=
            fmt::format("{}{} AS {}", (exists ? replaced : added).empty() ? "" : ", ", sql, QuoteName(name));
        if (!exists) visible.push_back(name);
      }
      from = fmt::format("(SELECT *{}{} FROM {})", replaced.empty() ? "" : " REPLACE (" + replaced + ")",
                         added.empty() ? "" : ", " + added, from);
      layer.clear();
    };
    auto columns = step.spec().Pairs("columns", true);
    for (auto& [name, formula] : columns) {
      if (name.empty() || name.size() > 128)
        step.spec().Fail("columns", "a column name is 1 to 128 characters");
      std::vector<std::string> names = visible;
      for (auto& [n, s] : layer) names.push_back(n);
      std::set<std::string> used;
      std::string sql = step.Expr(formula, names, ExprMode::kRow, "columns." + name, nullptr, &used);
      bool depends = std::any_of(layer.begin(), layer.end(), [&](auto& l) { return used.count(l.first); });
      bool twice = std::any_of(layer.begin(), layer.end(), [&](auto& l) { return l.first == name; });
      if (depends || twice) {
        flush();
        sql = step.Expr(formula, visible, ExprMode::kRow, "columns." + name);
      }
      layer.emplace_back(name, sql);
    }
    flush();
    std::set<std::string> replaced;
    for (auto& [name, formula] : columns) replaced.insert(name);
    step.RowWise(step.Add("SELECT * FROM " + from, {&in}), in, StepContext::AllBut(in, replaced));
  }
};

class Select : public StepType {
 public:
  const char* name() const override { return "select"; }
  std::set<std::string> fields() const override { return {"input", "columns", "exclude"}; }
  void Compile(StepContext& step) const override {
    const Relation& in = step.Input("input");
    if (step.spec().Has("columns") == step.spec().Has("exclude"))
      step.spec().Fail("", "give one of 'columns' (what to keep) and 'exclude' (what to drop)");
    std::string list;
    std::map<std::string, std::string> same;
    if (step.spec().Has("exclude")) {
      auto drop = Columns(step, in, "exclude", true);
      for (auto& c : in.Names()) {
        if (std::find(drop.begin(), drop.end(), c) == drop.end())
          list += (list.empty() ? "" : ", ") + QuoteName(c), same[c] = c;
      }
      if (list.empty()) step.spec().Fail("exclude", "would drop every column");
    } else {
      for (auto& [from, to] : step.spec().Pairs("columns", true)) {
        std::string found = in.Find(from, step.spec(), "columns");
        list += (list.empty() ? "" : ", ") + QuoteName(found) + " AS " + QuoteName(to);
        same[to] = found;
      }
    }
    step.RowWise(step.Add(fmt::format("SELECT {} FROM {}", list, in.cte), {&in}), in, same);
  }
};

class Rename : public StepType {
 public:
  const char* name() const override { return "rename"; }
  std::set<std::string> fields() const override { return {"input", "columns"}; }
  void Compile(StepContext& step) const override {
    const Relation& in = step.Input("input");
    std::map<std::string, std::string> to;
    for (auto& [old_name, new_name] : step.spec().Pairs("columns", true)) {
      if (new_name.empty() || new_name.size() > 128)
        step.spec().Fail("columns", "a column name is 1 to 128 characters");
      to[in.Find(old_name, step.spec(), "columns")] = new_name;
    }
    std::string list;
    std::map<std::string, std::string> same;
    for (auto& c : in.Names()) {
      list += (list.empty() ? "" : ", ") + QuoteName(c) + (to.count(c) ? " AS " + QuoteName(to[c]) : "");
      same[to.count(c) ? to[c] : c] = c;
    }
    step.RowWise(step.Add(fmt::format("SELECT {} FROM {}", list, in.cte), {&in}), in, same);
  }
};

class Sort : public StepType {
 public:
  const char* name() const override { return "sort"; }
  std::set<std::string> fields() const override { return {"input", "by", "limit"}; }
  void Compile(StepContext& step) const override {
    const Relation& in = step.Input("input");
    std::string limit;
    if (step.spec().Has("limit")) {
      std::string n = step.spec().Text("limit");
      if (n.empty() || n.size() > 12 || n.find_first_not_of("0123456789") != std::string::npos)
        step.spec().Fail("limit", "must be a whole number");
      limit = " LIMIT " + n;
    }
    if (!step.spec().Has("by")) step.spec().Fail("by", "is required: the columns to sort by ('amount desc')");
    std::string by = OrderList(step, in, "by");
    auto sql = [&](const std::string& from) {
      return fmt::format("SELECT * FROM {} ORDER BY {}{}", from, by, limit);
    };
    // The top rows are the top of each part's top rows.
    limit.empty() ? step.Add(sql(in.cte), {&in}) : step.AddByParts(sql, in);
  }
};

// One row per key (the first or last along order_by); the rows it drops are
// <step>.duplicates. Without keys: whole-row duplicates.
class Dedupe : public StepType {
 public:
  const char* name() const override { return "dedupe"; }
  std::set<std::string> fields() const override { return {"input", "keys", "keep", "order_by"}; }
  void Compile(StepContext& step) const override {
    const Relation& in = step.Input("input");
    auto keys = Columns(step, in, "keys");
    bool last = step.spec().Choice("keep", {"first", "last"}, "first") == "last";
    // The rows kept of the whole are those kept of the rows each part keeps.
    if (keys.empty()) {
      step.AddByParts([](const std::string& from) { return "SELECT DISTINCT * FROM " + from; }, in);
      return;
    }
    if (last && !step.spec().Has("order_by"))
      step.spec().Fail("keep", "keep: last needs order_by (last along what?)");
    // The order the kept row is first along: keep: last reverses each direction.
    auto order = OrderEntries(step, in, "order_by");
    for (auto& entry : order) entry.second = entry.second != last;
    std::string by = OrderBy(order);
    bool uniform =
        std::all_of(order.begin(), order.end(), [&](auto& e) { return e.second == order.front().second; });
    std::string over =
        "row_number() OVER (PARTITION BY " + ColumnList(keys) + (by.empty() ? "" : " ORDER BY " + by) + ")";
    if (uniform) {
      // One aggregate per key instead of a window over every row: the row with the
      // smallest (largest) order, blanks last as in ORDER BY.
      std::string pick = "any_value(__dedupe_row)";
      if (!order.empty()) {
        bool desc = order.front().second;
        std::string key;
        for (auto& [col, d] : order)
          key += fmt::format("{}{} IS {}NULL, {}", key.empty() ? "" : ", ", QuoteName(col),
                             desc ? "NOT " : "", QuoteName(col));
        pick = fmt::format("{}(__dedupe_row, row({}))", desc ? "arg_max" : "arg_min", key);
      }
      step.AddByParts(
          [&](const std::string& from) {
            // (SELECT *: the row is used whole, column_demand.h)
            return fmt::format("SELECT unnest({}) FROM (SELECT * FROM {}) __dedupe_row GROUP BY {}", pick,
                               from, ColumnList(keys, "__dedupe_row"));
          },
          in);
    } else {
      step.AddByParts(
          [&](const std::string& from) { return fmt::format("SELECT * FROM {} QUALIFY {} = 1", from, over); },
          in);
    }
    step.Add(fmt::format("SELECT * FROM {} QUALIFY {} > 1", in.cte, over), {&in}, "duplicates");
  }
};

class Union : public StepType {
 public:
  const char* name() const override { return "union"; }
  std::set<std::string> fields() const override { return {"inputs", "by_name", "distinct"}; }
  void Compile(StepContext& step) const override {
    auto names = step.spec().List("inputs", true);
    if (names.size() < 2) step.spec().Fail("inputs", "a union reads two or more inputs");
    bool by_name = step.spec().Bool("by_name", true);
    bool distinct = step.spec().Bool("distinct", false);
    std::vector<const Relation*> from;
    std::string text;
    for (size_t i = 0; i < names.size(); i++) {
      from.push_back(&step.Named(names[i], "inputs"));
      text += (i ? fmt::format(" UNION{}{} ", distinct ? "" : " ALL", by_name ? " BY NAME" : "") : "") +
              "SELECT * FROM " + from[i]->cte;
    }
    step.Add(text, from);
  }
};

class Aggregate : public StepType {
 public:
  const char* name() const override { return "aggregate"; }
  std::set<std::string> fields() const override { return {"input", "group_by", "values"}; }
  // One statement; or, split (StepContext::SplitsAggregates), partial aggregates by
  // the same groups and their combination.
  void Compile(StepContext& step) const override {
    const Relation& in = step.Input("input");
    auto group = Columns(step, in, "group_by");
    std::string by = group.empty() ? "" : " GROUP BY " + ColumnList(group);
    std::string list = ColumnList(group), combined = list;
    AggregateParts parts;
    for (auto& [name, formula] : step.spec().Pairs("values", true)) {
      std::string sql = step.Expr(formula, in.Names(), ExprMode::kAggregate, "values." + name);
      list += (list.empty() ? "" : ", ") + sql + " AS " + QuoteName(name);
      if (step.SplitsAggregates()) {
        sql =
            step.Expr(formula, in.Names(), ExprMode::kAggregate, "values." + name, nullptr, nullptr, &parts);
        combined += (combined.empty() ? "" : ", ") + sql + " AS " + QuoteName(name);
      }
    }
    AddAggregate(step, in, group, fmt::format("SELECT {} FROM {}{}", list, in.cte, by), parts, combined);
  }
};

class Window : public StepType {
 public:
  const char* name() const override { return "window"; }
  std::set<std::string> fields() const override { return {"input", "partition_by", "order_by", "columns"}; }
  void Compile(StepContext& step) const override {
    const Relation& in = step.Input("input");
    WindowSpec w{ColumnList(Columns(step, in, "partition_by")),
                 step.spec().Has("order_by") ? OrderList(step, in, "order_by") : ""};
    std::string list;
    for (auto& [name, formula] : step.spec().Pairs("columns", true)) {
      std::string sql = step.Expr(formula, in.Names(), ExprMode::kWindow, "columns." + name, &w);
      list += ", " + sql + " AS " + QuoteName(name);
    }
    step.Add(fmt::format("SELECT *{} FROM {}", list, in.cte), {&in});
  }
};

// A governed lake table: created when it does not exist; then `overwrite` (default)
// replaces its rows, `insert` appends, `create` insists it did not exist.
class Output : public StepType {
 public:
  const char* name() const override { return "output"; }
  std::set<std::string> fields() const override { return {"input", "table", "mode", "file", "sheet"}; }
  void Compile(StepContext& step) const override {
    const Relation& in = step.Input("input");
    if (step.spec().Has("file") == step.spec().Has("table"))
      step.spec().Fail("table",
                       "an output names one of 'table' (a lake table) and 'file' (csv, parquet, xlsx)");
    if (step.spec().Has("file")) return CompileFile(step, in);
    if (step.spec().Has("sheet")) step.spec().Fail("sheet", "is for .xlsx files");
    std::string quoted = step.spec().Table("table");
    std::string table = step.spec().Text("table");
    std::string mode = step.spec().Choice("mode", {"overwrite", "insert", "create"}, "overwrite");
    bool exists = mode != "create" && step.TableExists(quoted);
    std::string head = !exists            ? "CREATE TABLE " + quoted + " AS"
                       : mode == "insert" ? "INSERT INTO " + quoted
                                          : "INSERT OVERWRITE " + quoted;
    step.Output(head, "SELECT * FROM " + in.cte, {&in},
                fmt::format("{} {} with {}", !exists ? "create" : mode, table,
                            step.spec().Text("input", "the previous step")));
  }

 private:
  // COPY (...) TO 'name' (FORMAT f[, SHEET 's']): a file of the run (docs/reconciliation.md).
  static void CompileFile(StepContext& step, const Relation& in) {
    const Spec& spec = step.spec();
    std::string file = spec.Text("file");
    static const std::regex kName("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}\\.(csv|parquet|xlsx)");
    if (!std::regex_match(file, kName) || file.find("..") != std::string::npos)
      spec.Fail("file",
                "is a bare file name ending in .csv, .parquet or .xlsx (the run's files go where it says)");
    if (spec.Has("mode")) spec.Fail("mode", "is for tables: a run writes its files whole");
    std::string format = file.substr(file.rfind('.') + 1);
    std::string sheet = spec.Text("sheet", format == "xlsx" ? step.name().substr(0, 31) : "");
    if (!sheet.empty() && format != "xlsx") spec.Fail("sheet", "is for .xlsx files");
    std::string options = "FORMAT " + format;
    if (!sheet.empty()) options += ", SHEET " + engine::QuoteString(sheet);
    step.Output("COPY (", "SELECT * FROM " + in.cte, {&in},
                fmt::format("write {}{} with {}", file, sheet.empty() ? "" : " sheet " + sheet,
                            spec.Text("input", "the previous step")),
                "\n) TO " + engine::QuoteString(file) + " (" + options + ")");
  }
};

}  // namespace

// The partial aggregates (as Parquet keeps them exactly), then their combination cast
// to the one-step types.
void AddAggregate(StepContext& step, const Relation& in, const std::vector<std::string>& group,
                  const std::string& one, const AggregateParts& parts, const std::string& combined) {
  if (!step.SplitsAggregates() || !parts.ok || parts.partial.empty()) return void(step.Add(one, {&in}));
  auto types_one = step.Describe(one, {&in});
  std::string by = group.empty() ? "" : " GROUP BY " + ColumnList(group);
  std::string list = ColumnList(group);
  for (auto& p : parts.partial) list += (list.empty() ? "" : ", ") + p;
  auto types = step.Describe(fmt::format("SELECT {} FROM {}{}", list, in.cte, by), {&in});
  list = ColumnList(group);
  for (size_t i = 0; i < parts.partial.size(); i++)
    list += (list.empty() ? "" : ", ") + parts.Stored(i, types.at(group.size() + i).type);
  const Relation& partial = step.AddPartial(fmt::format("SELECT {} FROM {}{}", list, in.cte, by), in);
  auto combined_sql = fmt::format("SELECT {} FROM {}{}", combined, partial.cte, by);
  std::string cast = ColumnList(group);
  for (size_t i = group.size(); i < types_one.size(); i++)
    cast += (cast.empty() ? "" : ", ") +
            fmt::format("CAST({0} AS {1}) AS {0}", QuoteName(types_one[i].name), types_one[i].type);
  step.Add(fmt::format("SELECT {} FROM ({})", cast, combined_sql), {&partial});
}

std::unique_ptr<StepType> MakeFilter() {
  return std::make_unique<Filter>();
}
std::unique_ptr<StepType> MakeDerive() {
  return std::make_unique<Derive>();
}
std::unique_ptr<StepType> MakeSelect() {
  return std::make_unique<Select>();
}
std::unique_ptr<StepType> MakeRename() {
  return std::make_unique<Rename>();
}
std::unique_ptr<StepType> MakeSort() {
  return std::make_unique<Sort>();
}
std::unique_ptr<StepType> MakeDedupe() {
  return std::make_unique<Dedupe>();
}
std::unique_ptr<StepType> MakeUnion() {
  return std::make_unique<Union>();
}
std::unique_ptr<StepType> MakeAggregate() {
  return std::make_unique<Aggregate>();
}
std::unique_ptr<StepType> MakeWindow() {
  return std::make_unique<Window>();
}
std::unique_ptr<StepType> MakeOutput() {
  return std::make_unique<Output>();
}

}  // namespace tarn::quality
