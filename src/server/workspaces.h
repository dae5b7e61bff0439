// Workspaces: the studio's notebooks, kept in the metadata store (docs/studio.md).
//
// A workspace is a name and ordered cells ({kind: "sql"|"markdown", source, chart?}),
// owned by the principal that created it (user name and issuer). Every save is a
// revision (the newest 200 are kept); a save names the revision it started from and
// fails with kConflict if someone saved in between, so no edit is silently lost.
// The owner shares it read-only or editable with users and groups by name. Sharing
// never widens data access: whoever opens a workspace runs its cells as themself.
//
// Access: "owner", "edit" or "read" (the best a share gives). A workspace the caller
// has no access to is kNotFound, exactly as a missing one; changing one the caller
// may only read (or sharing and deleting one it does not own) is kPermissionDenied.
// Bad input is kInvalidArgument naming the field.
//
// Thread-safety: as the MetaStore used.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "identity/principal.h"
#include "store/store.h"

namespace tarn::server {

struct WorkspaceShare {
  std::string kind;  // user | group
  std::string name;
  std::string access;  // read | edit
};

struct Workspace {
  std::string id;
  std::string name;
  std::string owner;
  std::string owner_issuer;
  int64_t revision = 0;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  nlohmann::json cells = nlohmann::json::array();
  std::vector<WorkspaceShare> shares{};
  std::string access{};  // the caller's
  nlohmann::json Json(bool with_cells) const;
};

struct WorkspaceRevision {
  int64_t revision = 0;
  std::string name;
  std::string author;
  int64_t created_ms = 0;
  nlohmann::json cells;
};

// Checks cells against the allowed shape (at most 500 cells, 256 KiB of source each,
// charts of a known type); returns them with only the known fields.
nlohmann::json CheckCells(const nlohmann::json& cells);
std::vector<WorkspaceShare> CheckShares(const nlohmann::json& shares);

class WorkspaceStore {
 public:
  explicit WorkspaceStore(store::MetaStore& store) : store_(store) {}

  Workspace Create(const identity::Principal& p, const std::string& name, const nlohmann::json& cells,
                   int64_t now_ms);
  // The caller's own and those shared with it, newest change first, without cells.
  std::vector<Workspace> List(const identity::Principal& p);
  Workspace Get(const std::string& id, const identity::Principal& p);
  Workspace Save(const std::string& id, const identity::Principal& p, const std::string& name,
                 const nlohmann::json& cells, int64_t base_revision, int64_t now_ms);
  std::vector<WorkspaceRevision> Revisions(const std::string& id, const identity::Principal& p);
  WorkspaceRevision Revision(const std::string& id, int64_t revision, const identity::Principal& p);
  Workspace Share(const std::string& id, const identity::Principal& p,
                  const std::vector<WorkspaceShare>& shares);
  void Delete(const std::string& id, const identity::Principal& p);

 private:
  Workspace Load(const std::string& id, const identity::Principal& p);
  store::MetaStore& store_;
};

}  // namespace tarn::server
