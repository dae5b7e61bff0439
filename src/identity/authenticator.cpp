#include "identity/authenticator.h"

#include <openssl/evp.h>

#include "common/error.h"
#include "common/util.h"

namespace tarn::identity {

std::optional<std::pair<std::string, std::string>> BasicCredentials(std::string_view header,
                                                                    bool form_encoded) {
  if (header.size() < 7) return std::nullopt;
  std::string scheme(header.substr(0, 6));
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "basic ") return std::nullopt;
  std::string in(header.substr(6));
  while (!in.empty() && in.front() == ' ') in.erase(0, 1);
  if (in.empty() || in.size() % 4 != 0 || in.size() > 4096) return std::nullopt;
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  size_t pad = (in[in.size() - 1] == '=') + (in[in.size() - 2] == '=');
  out.resize(static_cast<size_t>(n) - pad);
  auto colon = out.find(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string id = out.substr(0, colon), secret = out.substr(colon + 1);
  if (!form_encoded) return std::make_pair(id, secret);
  return std::make_pair(UrlDecode(id, true), UrlDecode(secret, true));
}

Authenticator::Authenticator(const KeyManager& keys, audit::AuditLog& audit, AuthenticatorOptions options)
    : keys_(keys),
      audit_(audit),
      options_(std::move(options)),
      verifier_(options_.issuer, options_.audience, keys_, options_.trusted, options_.fetch),
      codes_(options_.clients, options_.clock) {}

std::string Authenticator::Authorize(Directory& dir, const std::string& id, const std::string& name,
                                     std::string_view password, const audit::Origin& origin) {
  codes_.Pending(id);  // an unknown sign-in fails before any password is checked
  Principal p;
  try {
    p = Login(dir, name, password, UserKind::kPerson, origin, "authorization_code");
  } catch (const Error&) {
    codes_.Failed(id);
    throw;
  }
  return codes_.Complete(id, p.user);
}

Principal Authenticator::Bearer(std::string_view token, Directory& dir) {
  return verifier_.Verify(token, [&](const std::string& user) { return dir.Lookup(user, options_.issuer); });
}

Principal Authenticator::Password(Directory& dir, const std::string& name, std::string_view secret,
                                  UserKind kind, const audit::Origin& origin) {
  return Login(dir, name, secret, kind, origin, "password");
}

// Runs a sign-in and records it as one login event (who, or why not) either way.
Principal Authenticator::AuditedLogin(const std::string& name, const std::string& issuer,
                                      nlohmann::json details, const audit::Origin& origin,
                                      const std::function<Principal()>& sign_in) {
  audit::ActionEvent e;
  e.event = "login";
  e.action = "LOGIN";
  e.actor = {name.substr(0, 256), {}, {}, issuer};
  e.origin = origin;
  e.details = std::move(details);
  try {
    Principal p = sign_in();
    e.actor = {p.user, p.groups, {}, p.issuer};
    audit_.Append(audit::ToJson(e));
    return p;
  } catch (const Error& err) {
    e.outcome = err.code() == ErrorCode::kUnauthenticated ? audit::Outcome::kDenied : audit::Outcome::kFailed;
    e.reason = err.what();
    audit_.Append(audit::ToJson(e));
    throw;
  }
}

Principal Authenticator::Login(Directory& dir, const std::string& name, std::string_view secret,
                               UserKind kind, const audit::Origin& origin, const std::string& method) {
  return AuditedLogin(name, options_.issuer, {{"grant_type", method.substr(0, 64)}}, origin, [&] {
    if (name.empty()) throw Error::InvalidArgument("a user name is required");
    return dir.Authenticate(name, secret, kind, options_.issuer);
  });
}

Principal Authenticator::ExternalSignIn(Directory& dir, std::string_view token, const std::string& issuer,
                                        const audit::Origin& origin) {
  nlohmann::json details = {{"grant_type", "authorization_code"},
                            {"identity_provider", issuer.substr(0, 256)}};
  return AuditedLogin("", issuer, std::move(details), origin, [&] {
    Principal p = Bearer(token, dir);
    if (p.issuer != issuer)
      throw Error::Unauthenticated("the identity provider returned a token of another issuer");
    return p;
  });
}

// The token endpoint's authorization_code grant: the code's user, as the directory
// has them now. A login event either way (the person signed in when the code was made).
Principal Authenticator::Redeem(Directory& dir, const std::map<std::string, std::string>& form,
                                const audit::Origin& origin) {
  auto field = [&](const char* name) {
    auto it = form.find(name);
    return it == form.end() ? std::string() : it->second;
  };
  nlohmann::json details = {{"grant_type", "authorization_code"},
                            {"client_id", field("client_id").substr(0, 128)}};
  return AuditedLogin("", options_.issuer, std::move(details), origin, [&] {
    if (field("code").empty()) throw Error::InvalidArgument("code is required");
    std::string user =
        codes_.Redeem(field("code"), field("client_id"), field("redirect_uri"), field("code_verifier"));
    auto p = dir.Lookup(user, options_.issuer);
    if (!p) throw Error::Unauthenticated("the user of this code no longer exists");
    return *p;
  });
}

IssuedToken Authenticator::Grant(Directory& dir, const std::map<std::string, std::string>& form,
                                 std::string_view authorization, const audit::Origin& origin) {
  auto field = [&](const char* name) {
    auto it = form.find(name);
    return it == form.end() ? std::string() : it->second;
  };
  std::string grant = field("grant_type");
  IssuedToken out;
  if (grant.empty())
    throw Error::InvalidArgument(
        "grant_type is required (password, client_credentials or authorization_code)");
  if (grant == "password") {
    if (field("username").empty()) throw Error::InvalidArgument("username is required");
    if (!form.count("password")) throw Error::InvalidArgument("password is required");
    out.principal = Login(dir, field("username"), field("password"), UserKind::kPerson, origin, grant);
  } else if (grant == "client_credentials") {
    std::string id = field("client_id"), secret = field("client_secret");
    auto basic = BasicCredentials(authorization, true);
    if (basic) {
      // RFC 6749 §2.3.1: one authentication method per request.
      if (form.count("client_secret")) {
        throw Error::InvalidArgument("send the client secret either in the form or as Basic, not both");
      }
      std::tie(id, secret) = *basic;
    } else if (!authorization.empty()) {
      throw Error::Unauthenticated("unsupported client authentication");
    }
    if (id.empty()) throw Error::InvalidArgument("client_id is required");
    out.principal = Login(dir, id, secret, UserKind::kService, origin, grant);
  } else if (grant == "authorization_code") {
    out.principal = Redeem(dir, form, origin);
  } else {
    throw Error::Unsupported(
        "unsupported grant_type: use password, client_credentials or authorization_code");
  }
  out.access_token = IssueToken(keys_, out.principal, options_.issuer, options_.audience, options_.token_ttl);
  out.expires_in = options_.token_ttl;
  return out;
}

}  // namespace tarn::identity
