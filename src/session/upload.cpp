#include "session/upload.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>
#include <sstream>

#include "catalog/catalog.h"
#include "common/error.h"
#include "common/util.h"
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

UploadStore::Info UploadStore::Save(const identity::Principal& owner, const std::string& filename,
                                    std::string_view body, int64_t now_ms) {
  static const std::regex kName("[A-Za-z0-9][A-Za-z0-9 _.()-]{0,127}");
  if (!std::regex_match(filename, kName))
    throw Error::InvalidArgument("'{}' cannot name an upload: letters, digits, space and _ . ( ) -",
                                 filename.substr(0, 64));
  files::FormatOfPath(filename);  // a known format
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw Error::Io("cannot keep uploads: {}", ec.message());
  std::filesystem::permissions(dir_, std::filesystem::perms::owner_all, ec);
  int64_t oldest = now_ms - int64_t{kUploadDays} * 86400 * 1000;
  for (auto& e : std::filesystem::directory_iterator(dir_, ec)) {
    if (e.path().extension() != ".json") continue;
    std::ifstream in(e.path());
    auto meta = nlohmann::json::parse(in, nullptr, false);
    if (!meta.is_discarded() && meta.value("created_ms", int64_t{0}) >= oldest) continue;
    std::filesystem::remove(e.path().parent_path() / e.path().stem(), ec);
    std::filesystem::remove(e.path(), ec);
  }
  std::string id = "up-" + RandomHex(12);
  Info info{id, filename, static_cast<int64_t>(body.size()), now_ms, dir_ / id};
  {
    std::ofstream out(info.path, std::ios::binary);
    out.write(body.data(), static_cast<std::streamsize>(body.size()));
    if (!out) throw Error::Io("cannot keep the upload");
  }
  nlohmann::json meta = {
      {"owner", owner.Key()}, {"filename", filename}, {"bytes", info.bytes}, {"created_ms", now_ms}};
  std::ofstream(dir_ / (info.id + ".json")) << meta.dump();
  return info;
}

UploadStore::Info UploadStore::Find(const identity::Principal& owner, const std::string& id) const {
  static const std::regex kId("up-[0-9a-f]{24}");
  auto missing = [&] {
    return Error::NotFound("upload {} does not exist (uploads are kept {} days)", id.substr(0, 64),
                           kUploadDays);
  };
  if (!std::regex_match(id, kId)) throw missing();
  std::ifstream in(dir_ / (id + ".json"));
  auto meta = nlohmann::json::parse(in, nullptr, false);
  if (!in || meta.is_discarded() || meta.value("owner", std::string()) != owner.Key()) throw missing();
  Info info{id, meta.value("filename", std::string()), meta.value("bytes", int64_t{0}),
            meta.value("created_ms", int64_t{0}), dir_ / id};
  std::error_code ec;
  if (!std::filesystem::is_regular_file(info.path, ec)) throw missing();
  return info;
}

}  // namespace tarn::session
