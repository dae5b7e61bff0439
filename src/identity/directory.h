// Directory: the built-in identity provider's users and groups, in the metadata store.
//
// Users are people (password login) or services (client credentials); both have an
// Argon2id-hashed secret. Names follow catalog identifier rules except that '.',
// '-' and '@' are also allowed (e.g. "ana.lopez", "etl-bot"), at most 64
// characters, stored in lower case. Authenticate() spends the same hashing work
// whether or not the user exists, and its failures say only "invalid credentials".
//
// Errors: kInvalidArgument (bad name or password), kAlreadyExists, kNotFound,
// kUnauthenticated (Authenticate).
//
// Thread-safety: as the MetaStore it uses (one thread at a time).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "identity/principal.h"
#include "store/store.h"

namespace tarn::identity {

enum class UserKind { kPerson, kService };

struct UserInfo {
  std::string name;
  UserKind kind = UserKind::kPerson;
  bool admin = false;
  std::vector<std::string> groups;
  std::string created_at;
};

// Checks and lower-cases a user or group name; throws kInvalidArgument naming `what`.
std::string CheckPrincipalName(const std::string& name, const char* what);

class Directory {
 public:
  explicit Directory(store::MetaStore& store) : store_(store) {}

  void AddUser(const std::string& name, std::string_view password, UserKind kind, bool admin);
  void RemoveUser(const std::string& name);
  void SetPassword(const std::string& name, std::string_view password);
  // Makes a user a data-lake administrator, or not. Must not run inside a store
  // transaction the caller holds (it is a single statement).
  void SetAdmin(const std::string& name, bool admin);
  std::vector<UserInfo> ListUsers();
  std::optional<UserInfo> FindUser(const std::string& name);

  void AddGroup(const std::string& name);
  void RemoveGroup(const std::string& name);  // also removes its memberships
  std::vector<std::string> ListGroups();
  void AddMember(const std::string& group, const std::string& user);
  void RemoveMember(const std::string& group, const std::string& user);

  // The principal for name/secret, or kUnauthenticated. `kind` must match the
  // user's kind (people cannot use client credentials and vice versa).
  Principal Authenticate(const std::string& name, std::string_view secret, UserKind kind,
                         const std::string& issuer);

  // The current principal for a known user (groups and admin as stored now), or
  // nullopt if the user no longer exists.
  std::optional<Principal> Lookup(const std::string& name, const std::string& issuer);

 private:
  int64_t UserId(const std::string& name);
  int64_t GroupId(const std::string& name);
  store::MetaStore& store_;
};

}  // namespace tarn::identity
