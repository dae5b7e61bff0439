// A pipeline's inputs that are files (docs/reconciliation.md, "File inputs").
#include "quality/compiler.h"

namespace tarn::quality {

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

}  // namespace tarn::quality
