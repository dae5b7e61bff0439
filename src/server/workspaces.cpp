#include "server/workspaces.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/error.h"
#include "common/util.h"

namespace tarn::server {

namespace {

constexpr size_t kMaxCells = 500;
constexpr size_t kMaxSource = 256 * 1024;
constexpr size_t kMaxShares = 100;
constexpr int64_t kKeptRevisions = 200;
constexpr const char* kColumns = "id, name, owner, owner_issuer, revision, created_ms, updated_ms";

std::string CheckText(const nlohmann::json& v, const std::string& field, size_t max, bool allow_empty) {
  if (!v.is_string()) throw Error::InvalidArgument("{}: expected a string", field);
  auto s = v.get<std::string>();
  if (s.size() > max) throw Error::InvalidArgument("{}: longer than {} bytes", field, max);
  if (!allow_empty && s.empty()) throw Error::InvalidArgument("{}: must not be empty", field);
  return s;
}

std::string CheckName(const nlohmann::json& v) {
  auto s = CheckText(v, "name", 200, false);
  if (std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
    throw Error::InvalidArgument("name: control characters are not allowed");
  return s;
}

void OnlyKeys(const nlohmann::json& o, const std::string& field, std::initializer_list<const char*> keys) {
  if (!o.is_object()) throw Error::InvalidArgument("{}: expected an object", field);
  for (const auto& [k, _] : o.items())
    if (std::none_of(keys.begin(), keys.end(), [&](const char* x) { return k == x; }))
      throw Error::InvalidArgument("{}: unknown field '{}'", field, k.substr(0, 64));
}

nlohmann::json CheckChart(const nlohmann::json& c, const std::string& field) {
  if (c.is_null()) return nullptr;
  OnlyKeys(c, field, {"type", "x", "y", "bins"});
  static const std::set<std::string> kTypes = {"bar", "line", "area", "scatter", "histogram"};
  auto type = CheckText(c.value("type", nlohmann::json()), field + ".type", 16, false);
  if (!kTypes.count(type))
    throw Error::InvalidArgument("{}.type: one of bar, line, area, scatter, histogram", field);
  nlohmann::json out = {{"type", type},
                        {"x", CheckText(c.value("x", nlohmann::json("")), field + ".x", 256, true)}};
  nlohmann::json ys = nlohmann::json::array();
  auto y = c.value("y", nlohmann::json::array());
  if (!y.is_array() || y.size() > 64)
    throw Error::InvalidArgument("{}.y: expected at most 64 column names", field);
  for (const auto& name : y) ys.push_back(CheckText(name, field + ".y", 256, false));
  out["y"] = ys;
  auto bins = c.value("bins", nlohmann::json(20));
  if (!bins.is_number_integer() || bins.get<int64_t>() < 2 || bins.get<int64_t>() > 200)
    throw Error::InvalidArgument("{}.bins: an integer from 2 to 200", field);
  out["bins"] = bins;
  return out;
}

std::string AccessOf(const identity::Principal& p, const std::string& owner, const std::string& issuer,
                     const std::vector<WorkspaceShare>& shares) {
  if (p.user == owner && p.issuer == issuer) return "owner";
  std::string best;
  for (const auto& s : shares) {
    bool match =
        s.kind == "user" ? s.name == p.user : std::binary_search(p.groups.begin(), p.groups.end(), s.name);
    if (match && (best.empty() || s.access == "edit")) best = s.access;
  }
  return best;
}

}  // namespace

nlohmann::json CheckCells(const nlohmann::json& cells) {
  if (!cells.is_array()) throw Error::InvalidArgument("cells: expected an array");
  if (cells.size() > kMaxCells) throw Error::InvalidArgument("cells: at most {} cells", kMaxCells);
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < cells.size(); ++i) {
    std::string field = "cells[" + std::to_string(i) + "]";
    const auto& c = cells[i];
    OnlyKeys(c, field, {"kind", "source", "chart"});
    auto kind = CheckText(c.value("kind", nlohmann::json()), field + ".kind", 16, false);
    if (kind != "sql" && kind != "markdown") throw Error::InvalidArgument("{}.kind: sql or markdown", field);
    nlohmann::json cell = {
        {"kind", kind},
        {"source", CheckText(c.value("source", nlohmann::json("")), field + ".source", kMaxSource, true)}};
    if (c.contains("chart") && !c["chart"].is_null()) {
      if (kind != "sql") throw Error::InvalidArgument("{}.chart: only SQL cells have charts", field);
      cell["chart"] = CheckChart(c["chart"], field + ".chart");
    }
    out.push_back(std::move(cell));
  }
  return out;
}

std::vector<WorkspaceShare> CheckShares(const nlohmann::json& shares) {
  if (!shares.is_array()) throw Error::InvalidArgument("shares: expected an array");
  if (shares.size() > kMaxShares) throw Error::InvalidArgument("shares: at most {}", kMaxShares);
  std::vector<WorkspaceShare> out;
  std::set<std::pair<std::string, std::string>> seen;
  for (size_t i = 0; i < shares.size(); ++i) {
    std::string field = "shares[" + std::to_string(i) + "]";
    const auto& s = shares[i];
    OnlyKeys(s, field, {"kind", "name", "access"});
    WorkspaceShare w{CheckText(s.value("kind", nlohmann::json()), field + ".kind", 8, false),
                     CheckText(s.value("name", nlohmann::json()), field + ".name", 256, false),
                     CheckText(s.value("access", nlohmann::json("read")), field + ".access", 8, false)};
    if (w.kind != "user" && w.kind != "group") throw Error::InvalidArgument("{}.kind: user or group", field);
    if (w.access != "read" && w.access != "edit")
      throw Error::InvalidArgument("{}.access: read or edit", field);
    if (!seen.insert({w.kind, w.name}).second)
      throw Error::InvalidArgument("{}: {} {} is named twice", field, w.kind, w.name.substr(0, 64));
    out.push_back(std::move(w));
  }
  return out;
}

nlohmann::json Workspace::Json(bool with_cells) const {
  nlohmann::json j = {{"id", id},
                      {"name", name},
                      {"owner", owner},
                      {"revision", revision},
                      {"created_ms", created_ms},
                      {"updated_ms", updated_ms},
                      {"access", access}};
  if (with_cells) j["cells"] = cells;
  if (access == "owner") {
    j["shares"] = nlohmann::json::array();
    for (const auto& s : shares)
      j["shares"].push_back({{"kind", s.kind}, {"name", s.name}, {"access", s.access}});
  }
  return j;
}

Workspace WorkspaceStore::Load(const std::string& id, const identity::Principal& p) {
  auto rows = store_.Query(std::string("SELECT ") + kColumns + " FROM workspaces WHERE id = ?", {id});
  if (rows.empty()) throw Error::NotFound("workspace {} does not exist", id.substr(0, 64));
  const auto& r = rows[0];
  Workspace w{r.Str(0), r.Str(1), r.Str(2), r.Str(3), r.Int(4), r.Int(5), r.Int(6)};
  for (const auto& s : store_.Query("SELECT kind, name, access FROM workspace_shares WHERE workspace_id = ? "
                                    "ORDER BY kind, name",
                                    {id}))
    w.shares.push_back({s.Str(0), s.Str(1), s.Str(2)});
  w.access = AccessOf(p, w.owner, w.owner_issuer, w.shares);
  if (w.access.empty()) throw Error::NotFound("workspace {} does not exist", id.substr(0, 64));
  return w;
}

Workspace WorkspaceStore::Create(const identity::Principal& p, const std::string& name,
                                 const nlohmann::json& cells, int64_t now_ms) {
  Workspace w{"ws-" + RandomHex(8), CheckName(name), p.user, p.issuer, 1, now_ms, now_ms, CheckCells(cells)};
  w.access = "owner";
  store_.Transaction([&] {
    store_.Execute(std::string("INSERT INTO workspaces (") + kColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?)",
                   {w.id, w.name, w.owner, w.owner_issuer, w.revision, now_ms, now_ms});
    store_.Execute("INSERT INTO workspace_revisions VALUES (?, ?, ?, ?, ?, ?)",
                   {w.id, int64_t{1}, w.name, w.cells.dump(), p.user, now_ms});
  });
  return w;
}

std::vector<Workspace> WorkspaceStore::List(const identity::Principal& p) {
  // The caller's groups as placeholders ("" when it has none: no share names "").
  std::vector<store::Param> params = {p.user, p.issuer, p.user};
  std::string groups;
  for (const auto& g : p.groups) {
    groups += groups.empty() ? "?" : ", ?";
    params.emplace_back(std::in_place_type<std::string>, g);
  }
  if (groups.empty()) {
    groups = "?";
    params.emplace_back(std::in_place_type<std::string>, "");
  }
  std::string visible =
      "SELECT id FROM workspaces WHERE (owner = ? AND owner_issuer = ?) OR id IN (SELECT workspace_id FROM "
      "workspace_shares WHERE (kind = 'user' AND name = ?) OR (kind = 'group' AND name IN (" +
      groups + ")))";
  // Two queries whatever the count: the workspaces, then all their shares.
  std::map<std::string, std::vector<WorkspaceShare>> shares;
  for (const auto& r : store_.Query("SELECT workspace_id, kind, name, access FROM workspace_shares WHERE "
                                    "workspace_id IN (" +
                                        visible + ") ORDER BY kind, name",
                                    params))
    shares[r.Str(0)].push_back({r.Str(1), r.Str(2), r.Str(3)});
  std::vector<Workspace> out;
  for (const auto& r : store_.Query(std::string("SELECT ") + kColumns + " FROM workspaces WHERE id IN (" +
                                        visible + ") ORDER BY updated_ms DESC, id",
                                    params)) {
    Workspace w{r.Str(0), r.Str(1), r.Str(2), r.Str(3), r.Int(4), r.Int(5), r.Int(6)};
    w.shares = std::move(shares[w.id]);
    w.access = AccessOf(p, w.owner, w.owner_issuer, w.shares);
    out.push_back(std::move(w));
  }
  return out;
}

Workspace WorkspaceStore::Get(const std::string& id, const identity::Principal& p) {
  Workspace w = Load(id, p);
  auto rows = store_.Query(
      "SELECT cells_json FROM workspace_revisions WHERE workspace_id = ? AND revision = ?", {id, w.revision});
  if (!rows.empty()) w.cells = nlohmann::json::parse(rows[0].Str(0));
  return w;
}

Workspace WorkspaceStore::Save(const std::string& id, const identity::Principal& p, const std::string& name,
                               const nlohmann::json& cells, int64_t base_revision, int64_t now_ms) {
  std::string checked_name = CheckName(name);
  nlohmann::json checked = CheckCells(cells);
  store_.Transaction([&] {
    Workspace w = Load(id, p);
    if (w.access == "read") throw Error::PermissionDenied("workspace {} is shared with you read-only", id);
    if (w.revision != base_revision)
      throw Error::Conflict("workspace {} changed since revision {}: it is at revision {} now", id,
                            base_revision, w.revision);
    int64_t next = w.revision + 1;
    if (store_.Execute(
            "UPDATE workspaces SET name = ?, revision = ?, updated_ms = ? WHERE id = ? AND revision = ?",
            {checked_name, next, now_ms, id, w.revision}) != 1)
      throw Error::Conflict("workspace {} changed while saving: reload it", id);
    store_.Execute("INSERT INTO workspace_revisions VALUES (?, ?, ?, ?, ?, ?)",
                   {id, next, checked_name, checked.dump(), p.user, now_ms});
    store_.Execute("DELETE FROM workspace_revisions WHERE workspace_id = ? AND revision <= ?",
                   {id, next - kKeptRevisions});
  });
  return Get(id, p);
}

std::vector<WorkspaceRevision> WorkspaceStore::Revisions(const std::string& id,
                                                         const identity::Principal& p) {
  Load(id, p);
  std::vector<WorkspaceRevision> out;
  for (const auto& r :
       store_.Query("SELECT revision, name, author, created_ms FROM workspace_revisions WHERE "
                    "workspace_id = ? ORDER BY revision DESC",
                    {id}))
    out.push_back({r.Int(0), r.Str(1), r.Str(2), r.Int(3), nullptr});
  return out;
}

WorkspaceRevision WorkspaceStore::Revision(const std::string& id, int64_t revision,
                                           const identity::Principal& p) {
  Load(id, p);
  auto rows = store_.Query(
      "SELECT revision, name, author, created_ms, cells_json FROM workspace_revisions WHERE "
      "workspace_id = ? AND revision = ?",
      {id, revision});
  if (rows.empty()) throw Error::NotFound("workspace {} has no revision {}", id, revision);
  const auto& r = rows[0];
  return {r.Int(0), r.Str(1), r.Str(2), r.Int(3), nlohmann::json::parse(r.Str(4))};
}

Workspace WorkspaceStore::Share(const std::string& id, const identity::Principal& p,
                                const std::vector<WorkspaceShare>& shares) {
  store_.Transaction([&] {
    Workspace w = Load(id, p);
    if (w.access != "owner") throw Error::PermissionDenied("only the owner of workspace {} may share it", id);
    store_.Execute("DELETE FROM workspace_shares WHERE workspace_id = ?", {id});
    for (const auto& s : shares)
      store_.Execute("INSERT INTO workspace_shares VALUES (?, ?, ?, ?)", {id, s.kind, s.name, s.access});
  });
  return Get(id, p);
}

void WorkspaceStore::Delete(const std::string& id, const identity::Principal& p) {
  store_.Transaction([&] {
    Workspace w = Load(id, p);
    if (w.access != "owner")
      throw Error::PermissionDenied("only the owner of workspace {} may delete it", id);
    store_.Execute("DELETE FROM workspace_shares WHERE workspace_id = ?", {id});
    store_.Execute("DELETE FROM workspace_revisions WHERE workspace_id = ?", {id});
    store_.Execute("DELETE FROM workspaces WHERE id = ?", {id});
  });
}

}  // namespace tarn::server
