#include "session/instance.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/util.h"
#include "store/store.h"

namespace fs = std::filesystem;

namespace tarn::session {

namespace {

std::string MetastoreOf(const InstanceOptions& o) {
  return o.metastore.empty() ? (o.data_dir / "metadata.sqlite").string() : o.metastore;
}

// config.json remembers a metadata store chosen at init, so later commands need
// not repeat --metastore. It may hold a password: only its owner may read it.
fs::path ConfigFile(const fs::path& data_dir) {
  return data_dir / "config.json";
}

void SaveMetastore(const fs::path& data_dir, const std::string& metastore) {
  WriteFileAtomic(ConfigFile(data_dir), nlohmann::json{{"metastore", metastore}}.dump(2) + "\n", 0600);
}

std::string LoadMetastore(const fs::path& data_dir) {
  std::ifstream in(ConfigFile(data_dir));
  if (!in) return "";
  try {
    return nlohmann::json::parse(in).value("metastore", "");
  } catch (const nlohmann::json::exception& e) {
    throw Error::InvalidArgument("{} is not valid JSON: {}", ConfigFile(data_dir).string(), e.what());
  }
}

}  // namespace

std::vector<std::string> Instance::Init(const InstanceOptions& options) {
  if (options.data_dir.empty()) throw Error::InvalidArgument("no data directory given: use --data-dir DIR");
  std::error_code ec;
  bool existed = fs::exists(options.data_dir, ec);
  std::vector<std::string> found = existed ? OpenToOthers(options.data_dir) : std::vector<std::string>{};
  // What Init creates is private from the start, whatever the umask: folders
  // 0700, the metadata store 0600 (it holds password hashes).
  auto make_private = [&](const fs::path& p, fs::perms perms) {
    if (fs::exists(p, ec)) fs::permissions(p, perms, fs::perm_options::replace, ec);
  };
  for (auto sub : {"", "lake", "tmp"}) {
    fs::path dir = options.data_dir / sub;
    bool was = fs::exists(dir, ec);
    fs::create_directories(dir, ec);
    if (ec) throw Error::Io("cannot create {}: {}", dir.string(), ec.message());
    if (!was) make_private(dir, fs::perms::owner_all);
  }
  fs::path sqlite = options.data_dir / "metadata.sqlite";
  bool sqlite_was = fs::exists(sqlite, ec);
  store::MetaStore::Open(MetastoreOf(options));  // creates and migrates
  if (!sqlite_was && options.metastore.empty()) {
    make_private(sqlite, fs::perms::owner_read | fs::perms::owner_write);
  }
  if (!options.metastore.empty()) SaveMetastore(options.data_dir, options.metastore);
  return found;
}

std::vector<std::string> Instance::OpenToOthers(const fs::path& data_dir) {
  std::vector<std::string> out;
  std::error_code ec;
  auto open = [](fs::perms p) {
    return (p & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none;
  };
  if (fs::is_directory(data_dir, ec) && open(fs::status(data_dir, ec).permissions()))
    out.push_back(data_dir.string());
  for (fs::recursive_directory_iterator it(data_dir, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    if (it->is_symlink(ec)) continue;
    if (open(it->status(ec).permissions())) out.push_back(it->path().string());
  }
  return out;
}

Instance::Instance(InstanceOptions options) : options_(std::move(options)) {
  std::error_code ec;
  if (options_.data_dir.empty()) throw Error::InvalidArgument("no data directory given: use --data-dir DIR");
  if (!fs::is_directory(options_.data_dir, ec)) {
    throw Error::NotFound("data directory {} does not exist: create it with `tarn init --data-dir {}`",
                          options_.data_dir.string(), options_.data_dir.string());
  }
  if (options_.metastore.empty()) options_.metastore = LoadMetastore(options_.data_dir);
  if (!fs::is_directory(options_.data_dir / "lake", ec) ||
      (options_.metastore.empty() && !fs::exists(options_.data_dir / "metadata.sqlite", ec))) {
    throw Error::NotFound("{} is not a Tarn data directory: initialise it with `tarn init --data-dir {}`",
                          options_.data_dir.string(), options_.data_dir.string());
  }
  options_.data_dir = fs::canonical(options_.data_dir);
  fs::create_directories(temp_dir(), ec);
  lake_ = std::make_unique<lake::Lake>(options_.data_dir / "lake");
  engine::EngineOptions eo;
  eo.memory_limit = options_.memory_limit;
  eo.threads = options_.threads;
  eo.temp_directory = temp_dir();
  audit_ = std::make_unique<audit::AuditLog>(audit_dir());
  // The engine may read the audit segments (system.audit, for AUDIT holders only).
  eo.allowed_directories = {lake_->root(), temp_dir(), audit_dir()};
  engine_ = std::make_unique<engine::Engine>(eo);
  engine_options_ = eo;
  lake::Keyring::Options ko;
  ko.dir = options_.data_dir / "table-keys";
  auto env = [](const char* name) { return std::string(std::getenv(name) ? std::getenv(name) : ""); };
  ko.key_file = options_.table_key_file.empty() ? env("TARN_TABLE_KEY_FILE") : options_.table_key_file;
  ko.key_command =
      options_.table_key_command.empty() ? env("TARN_TABLE_KEY_COMMAND") : options_.table_key_command;
  ko.encrypt_new_tables = options_.encrypt_tables || env("TARN_ENCRYPT_TABLES") == "true";
  keyring_ = std::make_unique<lake::Keyring>(ko);
}

Instance::~Instance() {
  // The limited engines' spill folders go with them.
  std::vector<fs::path> folders;
  for (auto& [key, engine] : limited_) folders.push_back(engine->options().temp_directory);
  limited_.clear();
  std::error_code ec;
  for (auto& f : folders) fs::remove_all(f, ec);
}

Caller Instance::LocalCaller() {
  Caller c;
  c.principal.user = "admin";
  c.principal.issuer = "local";
  c.principal.admin = true;
  c.origin.kind = "cli";
  return c;
}

std::unique_ptr<Session> Instance::NewSession() {
  return SessionOn(*engine_);
}

std::unique_ptr<Session> Instance::SessionOn(engine::Engine& engine) {
  auto s =
      std::make_unique<Session>(engine, *lake_, MetastoreOf(options_), temp_dir(), audit_.get(), audit_dir());
  s->SetCaller(LocalCaller());
  s->catalog().SetKeyring(keyring_.get());
  return s;
}

std::unique_ptr<Session> Instance::NewLimitedSession(const std::string& pool, int64_t memory_bytes) {
  engine::Engine* engine = nullptr;
  {
    std::lock_guard<std::mutex> lock(limited_mu_);
    std::string key = pool + '\x1f' + std::to_string(memory_bytes);
    auto it = limited_.find(key);
    if (it == limited_.end()) {
      if (limited_.size() >= kMaxLimitedEngines) {
        throw Error::ResourceExhausted(
            "too many memory pools ({}) since the server started: use fewer distinct SET LIMIT memory "
            "settings, or restart the server",
            kMaxLimitedEngines);
      }
      engine::EngineOptions eo = engine_options_;
      eo.memory_limit = std::to_string(memory_bytes / 1024) + "KiB";
      // Its own spill folder: DuckDB names its temporary files per instance.
      eo.temp_directory = temp_dir() / ("limited-" + RandomHex(8));
      fs::create_directories(eo.temp_directory);
      it = limited_.emplace(key, std::make_unique<engine::Engine>(eo)).first;
    }
    engine = it->second.get();
  }
  return SessionOn(*engine);
}

std::unique_ptr<store::MetaStore> Instance::OpenMetastore() const {
  return store::MetaStore::Open(MetastoreOf(options_));
}

std::vector<std::string> Instance::CollectGarbage(std::chrono::seconds grace) {
  auto session = NewSession();
  auto live = session->catalog().LiveFiles();
  return lake_->CollectGarbage(live, fs::file_time_type::clock::now() - grace);
}

}  // namespace tarn::session
