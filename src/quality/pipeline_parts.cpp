// The step types, a pipeline's inputs that are files (docs/reconciliation.md, "File
// inputs"), and a compiled pipeline as a script and as explain shows it.
#include <fmt/format.h>

#include "quality/compiler.h"

namespace tarn::quality {

std::vector<std::string> StepTypes() {
  std::vector<std::string> out;
  for (auto& t : StepTypeList()) out.push_back(t->name());
  return out;
}

const std::vector<std::unique_ptr<StepType>>& StepTypeList() {
  static const std::vector<std::unique_ptr<StepType>> kTypes = [] {
    std::vector<std::unique_ptr<StepType>> v;
    for (auto make :
         {MakeFilter, MakeDerive, MakeSelect, MakeRename, MakeSort, MakeDedupe, MakeUnion, MakeAggregate,
          MakeWindow, MakeJoin, MakeLookup, MakePivot, MakeUnpivot, MakeCompare, MakeOutput})
      v.push_back(make());
    return v;
  }();
  return kTypes;
}

FileInputSpec ReadFileInput(const std::string& name, const Spec& spec) {
  spec.OnlyFields({"file", "format", "sheet", "range", "types", "description"});
  FileInputSpec f;
  f.input = name;
  f.table = "file_" + name;
  f.file = spec.Text("file", "", true);
  if (spec.Has("format")) f.format = spec.Choice("format", {"csv", "parquet", "json", "xlsx"}, "csv");
  f.sheet = spec.Text("sheet");
  f.range = spec.Text("range");
  f.types = spec.Pairs("types");
  bool xlsx = f.format == "xlsx" || (f.format.empty() && f.file.ends_with(".xlsx"));
  if (!xlsx && (!f.sheet.empty() || !f.range.empty()))
    spec.Fail(f.sheet.empty() ? "range" : "sheet", "is for .xlsx files");
  return f;
}

std::string CompiledPipeline::Script() const {
  std::string out;
  for (auto& s : statements) out += "-- " + s.note + "\n" + s.sql + ";\n\n";
  return out;
}

std::string CompiledPipeline::Explain() const {
  std::string out =
      fmt::format("pipeline {}: {} steps, {} statements\n\n", name, steps.size(), statements.size());
  for (auto& s : steps) {
    out += fmt::format("step {} ({}, line {}): {}\n", s.name, s.op, s.line,
                       s.materialized.empty() ? "fused into the statement that uses it" : s.materialized);
    std::string cols;
    for (auto& c : s.columns) cols += (cols.empty() ? "" : ", ") + c.name + " " + c.type;
    out += "  columns: " + cols + "\n  " + s.sql + "\n\n";
  }
  int n = 0;
  for (auto& s : statements) out += fmt::format("statement {} ({}): {}\n{};\n\n", ++n, s.step, s.note, s.sql);
  return out;
}

}  // namespace tarn::quality
