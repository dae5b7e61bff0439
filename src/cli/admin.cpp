#include "cli/admin.h"

#include "common/error.h"
#include "identity/password.h"

namespace tarn::cli {

namespace {

class Local : public Admin {
 public:
  explicit Local(const session::InstanceOptions& options)
      : instance_(options), store_(instance_.OpenMetastore()), dir_(*store_) {}
  void AddUser(const std::string& name, const std::string& password, identity::UserKind kind,
               const std::vector<std::string>& groups) override {
    for (auto& g : groups) {
      auto all = dir_.ListGroups();
      if (std::find(all.begin(), all.end(), identity::CheckPrincipalName(g, "group")) == all.end()) {
        throw Error::NotFound("group {} does not exist: create it with `tarn group add {}`", g, g);
      }
    }
    store_->Transaction([&] {
      dir_.AddUser(name, password, kind, false);
      for (auto& g : groups) dir_.AddMember(g, name);
    });
  }
  void RemoveUser(const std::string& name) override { dir_.RemoveUser(name); }
  void SetPassword(const std::string& name, const std::string& password) override {
    dir_.SetPassword(name, password);
  }
  std::vector<identity::UserInfo> ListUsers() override { return dir_.ListUsers(); }
  void AddGroup(const std::string& name) override { dir_.AddGroup(name); }
  void RemoveGroup(const std::string& name) override { dir_.RemoveGroup(name); }
  std::vector<std::string> ListGroups() override { return dir_.ListGroups(); }
  void AddMember(const std::string& group, const std::string& user) override { dir_.AddMember(group, user); }
  void RemoveMember(const std::string& group, const std::string& user) override {
    dir_.RemoveMember(group, user);
  }

 private:
  session::Instance instance_;
  std::unique_ptr<store::MetaStore> store_;
  identity::Directory dir_;
};

class Remote : public Admin {
 public:
  explicit Remote(RemoteOptions remote) : remote_(std::move(remote)) {}
  void AddUser(const std::string& name, const std::string& password, identity::UserKind kind,
               const std::vector<std::string>& groups) override {
    CallApi(remote_, "POST", "/v1/users",
            {{"name", name},
             {"password", password},
             {"kind", kind == identity::UserKind::kService ? "service" : "person"},
             {"groups", groups}});
  }
  void RemoveUser(const std::string& name) override { CallApi(remote_, "DELETE", "/v1/users/" + Path(name)); }
  void SetPassword(const std::string& name, const std::string& password) override {
    CallApi(remote_, "PUT", "/v1/users/" + Path(name) + "/password", {{"password", password}});
  }
  std::vector<identity::UserInfo> ListUsers() override {
    std::vector<identity::UserInfo> out;
    auto reply = CallApi(remote_, "GET", "/v1/users");  // kept alive for the loop
    for (auto& u : reply["users"]) {
      identity::UserInfo info;
      info.name = u["name"];
      info.kind = u["kind"] == "service" ? identity::UserKind::kService : identity::UserKind::kPerson;
      info.admin = u["admin"];
      info.groups = u["groups"].get<std::vector<std::string>>();
      info.created_at = u["created_at"];
      out.push_back(info);
    }
    return out;
  }
  void AddGroup(const std::string& name) override {
    CallApi(remote_, "POST", "/v1/groups", {{"name", name}});
  }
  void RemoveGroup(const std::string& name) override {
    CallApi(remote_, "DELETE", "/v1/groups/" + Path(name));
  }
  std::vector<std::string> ListGroups() override {
    return CallApi(remote_, "GET", "/v1/groups")["groups"].get<std::vector<std::string>>();
  }
  void AddMember(const std::string& group, const std::string& user) override {
    CallApi(remote_, "PUT", "/v1/groups/" + Path(group) + "/members/" + Path(user));
  }
  void RemoveMember(const std::string& group, const std::string& user) override {
    CallApi(remote_, "DELETE", "/v1/groups/" + Path(group) + "/members/" + Path(user));
  }

 private:
  // Names are checked locally first, so they never carry '/', '?' or '%' into a path.
  static std::string Path(const std::string& name) { return identity::CheckPrincipalName(name, "name"); }
  RemoteOptions remote_;
};

}  // namespace

std::unique_ptr<Admin> LocalAdmin(const session::InstanceOptions& options) {
  return std::make_unique<Local>(options);
}
std::unique_ptr<Admin> RemoteAdmin(const RemoteOptions& remote) {
  return std::make_unique<Remote>(remote);
}

std::string EnsureAdmin(const session::InstanceOptions& options, const std::string& password) {
  session::Instance instance(options);
  auto store = instance.OpenMetastore();
  identity::Directory dir(*store);
  if (!dir.ListUsers().empty()) return "";
  std::string pw = password.empty() ? identity::GeneratePassword() : password;
  dir.AddUser("admin", pw, identity::UserKind::kPerson, true);
  return pw;
}

}  // namespace tarn::cli
