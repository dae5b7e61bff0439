#include "identity/directory.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "common/error.h"
#include "common/util.h"
#include "identity/password.h"

namespace tarn::identity {

namespace {

const char* KindName(UserKind k) {
  return k == UserKind::kService ? "service" : "person";
}

// A hash of a random password: Authenticate() verifies against it when the user
// does not exist, so that both cases take the same time.
const std::string& DecoyHash() {
  static const std::string hash = HashPassword(GeneratePassword());
  return hash;
}

}  // namespace

std::string CheckPrincipalName(const std::string& name, const char* what) {
  bool ok = !name.empty() && name.size() <= 64 &&
            (std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_');
  for (unsigned char c : name) ok = ok && (std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == '@');
  if (!ok) {
    throw Error::InvalidArgument(
        "invalid {} name '{}': use a letter or '_' then letters, digits, '_', '.', '-' or '@' (at most 64)",
        what, name.size() > 80 ? name.substr(0, 80) + "..." : name);
  }
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return lower;
}

int64_t Directory::UserId(const std::string& name) {
  auto rows = store_.Query("SELECT id FROM users WHERE name = ?", {CheckPrincipalName(name, "user")});
  if (rows.empty()) throw Error::NotFound("user {} does not exist", CheckPrincipalName(name, "user"));
  return rows[0].Int(0);
}

int64_t Directory::GroupId(const std::string& name) {
  auto rows = store_.Query("SELECT id FROM groups WHERE name = ?", {CheckPrincipalName(name, "group")});
  if (rows.empty()) throw Error::NotFound("group {} does not exist", CheckPrincipalName(name, "group"));
  return rows[0].Int(0);
}

void Directory::AddUser(const std::string& raw, std::string_view password, UserKind kind, bool admin) {
  std::string name = CheckPrincipalName(raw, "user");
  std::string hash = HashPassword(password);
  try {
    store_.Execute(
        "INSERT INTO users (name, password_hash, kind, is_admin, created_at, valid_after) VALUES (?, ?, ?, "
        "?, ?, ?)",
        {name, hash, std::string(KindName(kind)), int64_t{admin ? 1 : 0}, NowUtc(), EpochMillis()});
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kAlreadyExists) throw Error::AlreadyExists("user {} already exists", name);
    throw;
  }
}

void Directory::RemoveUser(const std::string& name) {
  store_.Transaction([&] {
    int64_t id = UserId(name);
    store_.Execute("DELETE FROM group_members WHERE user_id = ?", {id});
    store_.Execute("DELETE FROM users WHERE id = ?", {id});
  });
}

void Directory::SetAdmin(const std::string& name, bool admin) {
  store_.Execute("UPDATE users SET is_admin = ? WHERE id = ?", {int64_t{admin ? 1 : 0}, UserId(name)});
}

void Directory::SetPassword(const std::string& name, std::string_view password) {
  std::string hash = HashPassword(password);
  store_.Execute("UPDATE users SET password_hash = ?, valid_after = ? WHERE id = ?",
                 {hash, EpochMillis(), UserId(name)});
}

std::vector<UserInfo> Directory::ListUsers() {
  std::vector<UserInfo> out;
  for (auto& r : store_.Query("SELECT name, kind, is_admin, created_at FROM users ORDER BY name")) {
    UserInfo u;
    u.name = r.Str(0);
    u.kind = r.Str(1) == "service" ? UserKind::kService : UserKind::kPerson;
    u.admin = r.Int(2) != 0;
    u.created_at = r.Str(3);
    for (auto& g :
         store_.Query("SELECT g.name FROM groups g JOIN group_members m ON m.group_id = g.id JOIN users u "
                      "ON u.id = m.user_id WHERE u.name = ? ORDER BY g.name",
                      {u.name})) {
      u.groups.push_back(g.Str(0));
    }
    out.push_back(std::move(u));
  }
  return out;
}

std::optional<UserInfo> Directory::FindUser(const std::string& raw) {
  std::string name = CheckPrincipalName(raw, "user");
  for (auto& u : ListUsers()) {
    if (u.name == name) return u;
  }
  return std::nullopt;
}

void Directory::AddGroup(const std::string& raw) {
  std::string name = CheckPrincipalName(raw, "group");
  try {
    store_.Execute("INSERT INTO groups (name, created_at) VALUES (?, ?)", {name, NowUtc()});
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kAlreadyExists) throw Error::AlreadyExists("group {} already exists", name);
    throw;
  }
}

void Directory::RemoveGroup(const std::string& name) {
  store_.Transaction([&] {
    int64_t id = GroupId(name);
    store_.Execute("DELETE FROM group_members WHERE group_id = ?", {id});
    store_.Execute("DELETE FROM groups WHERE id = ?", {id});
  });
}

std::vector<std::string> Directory::ListGroups() {
  std::vector<std::string> out;
  for (auto& r : store_.Query("SELECT name FROM groups ORDER BY name")) out.push_back(r.Str(0));
  return out;
}

void Directory::AddMember(const std::string& group, const std::string& user) {
  int64_t g = GroupId(group), u = UserId(user);
  try {
    store_.Execute("INSERT INTO group_members (group_id, user_id) VALUES (?, ?)", {g, u});
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kAlreadyExists) throw;  // already a member: nothing to do
  }
}

void Directory::RemoveMember(const std::string& group, const std::string& user) {
  int64_t g = GroupId(group), u = UserId(user);
  if (store_.Execute("DELETE FROM group_members WHERE group_id = ? AND user_id = ?", {g, u}) == 0) {
    throw Error::NotFound("user {} is not a member of group {}", CheckPrincipalName(user, "user"),
                          CheckPrincipalName(group, "group"));
  }
}

Principal Directory::Authenticate(const std::string& raw, std::string_view secret, UserKind kind,
                                  const std::string& issuer) {
  std::string name;
  try {
    name = CheckPrincipalName(raw, "user");
  } catch (const Error&) {
    VerifyPassword(DecoyHash(), secret);
    throw Error::Unauthenticated("invalid credentials");
  }
  auto rows = store_.Query("SELECT password_hash, kind FROM users WHERE name = ?", {name});
  bool ok = false;
  if (rows.empty()) {
    VerifyPassword(DecoyHash(), secret);
  } else {
    ok = VerifyPassword(rows[0].Str(0), secret) && rows[0].Str(1) == KindName(kind);
  }
  if (!ok) throw Error::Unauthenticated("invalid credentials");
  auto p = Lookup(name, issuer);
  if (!p) throw Error::Unauthenticated("invalid credentials");
  return *p;
}

std::optional<Principal> Directory::Lookup(const std::string& raw, const std::string& issuer) {
  std::string name = CheckPrincipalName(raw, "user");
  // One query, so one read transaction, per request: the user and their groups.
  auto rows = store_.Query(
      "SELECT u.kind, u.is_admin, u.valid_after, g.name FROM users u "
      "LEFT JOIN group_members m ON m.user_id = u.id LEFT JOIN groups g ON g.id = m.group_id "
      "WHERE u.name = ? ORDER BY g.name",
      {name});
  if (rows.empty()) return std::nullopt;
  Principal p;
  p.user = name;
  p.issuer = issuer;
  p.service = rows[0].Str(0) == "service";
  p.admin = rows[0].Int(1) != 0;
  p.credentials_since_ms = rows[0].Int(2);
  for (auto& r : rows) {
    if (!r.IsNull(3)) p.groups.push_back(r.Str(3));
  }
  return p;
}

}  // namespace tarn::identity
