#include "session/upload.h"

#include "catalog/catalog.h"
#include "common/error.h"
#include "engine/engine.h"

namespace tarn::session {

UploadMode ParseUploadMode(const std::string& mode) {
  if (mode == "create") return UploadMode::kCreate;
  if (mode == "append") return UploadMode::kAppend;
  if (mode == "replace") return UploadMode::kReplace;
  throw Error::InvalidArgument("upload mode '{}' is not one of create, append, replace", mode.substr(0, 32));
}

std::string UploadScript(const std::string& database, const std::string& table, UploadMode mode) {
  std::string name = engine::QuoteIdent(catalog::CheckName(database, "database")) + "." +
                     engine::QuoteIdent(catalog::CheckName(table, "table"));
  switch (mode) {
    case UploadMode::kCreate: return "CREATE TABLE " + name + " AS SELECT * FROM upload";
    case UploadMode::kAppend: return "INSERT INTO " + name + " SELECT * FROM upload";
    case UploadMode::kReplace: return "INSERT OVERWRITE " + name + " SELECT * FROM upload";
  }
  throw Error::Internal("unknown upload mode");
}

std::pair<std::string, std::string> SplitTableName(const std::string& qualified) {
  auto dot = qualified.find('.');
  if (dot == std::string::npos || qualified.find('.', dot + 1) != std::string::npos)
    throw Error::InvalidArgument("'{}' is not database.table", qualified.substr(0, 128));
  return {catalog::CheckName(qualified.substr(0, dot), "database"),
          catalog::CheckName(qualified.substr(dot + 1), "table")};
}

}  // namespace tarn::session
