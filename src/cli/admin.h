// User and group administration for `tarn user ...` and `tarn group ...`: either
// directly on a data directory's metadata store, or through a server's admin API
// with an administrator's token. Both behave the same.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/remote.h"
#include "identity/directory.h"
#include "session/instance.h"

namespace tarn::cli {

class Admin {
 public:
  virtual ~Admin() = default;
  virtual void AddUser(const std::string& name, const std::string& password, identity::UserKind kind,
                       const std::vector<std::string>& groups) = 0;
  virtual void RemoveUser(const std::string& name) = 0;
  virtual void SetPassword(const std::string& name, const std::string& password) = 0;
  virtual std::vector<identity::UserInfo> ListUsers() = 0;
  virtual void AddGroup(const std::string& name) = 0;
  virtual void RemoveGroup(const std::string& name) = 0;
  virtual std::vector<std::string> ListGroups() = 0;
  virtual void AddMember(const std::string& group, const std::string& user) = 0;
  virtual void RemoveMember(const std::string& group, const std::string& user) = 0;
};

std::unique_ptr<Admin> LocalAdmin(const session::InstanceOptions& options);
std::unique_ptr<Admin> RemoteAdmin(const RemoteOptions& remote);

// Creates the administrator `admin` if the directory has no users yet. Returns the
// password it set (generated when `password` is empty), or "" if users existed.
std::string EnsureAdmin(const session::InstanceOptions& options, const std::string& password);

}  // namespace tarn::cli
