// A small synchronous HTTP(S) client: for JWKS URLs and for the `tarn` CLI talking
// to a server. Certificates are verified against the system store (or `ca_file`)
// and the host name, unless `insecure` is set. Every phase has a deadline.
//
// Thread-safety: stateless; each call uses its own connection.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>

struct x509_st;

namespace tarn::server {

// Whether the server may fetch `url` for identity (JWKS, an identity provider's
// endpoints): https://, or plain http:// only to a loopback address.
bool HttpsOrLoopback(const std::string& url);

struct ClientOptions {
  std::string ca_file;    // PEM bundle to trust instead of the system store
  bool insecure = false;  // skip certificate verification (testing only)
  // Trust exactly the certificate with this SHA-256 (lower-case hex of its DER form),
  // whatever signed it and whatever names it holds (a node's file service).
  std::string pinned_sha256;
  std::chrono::seconds timeout{30};
  size_t max_response_bytes = 1ull << 30;
  // Write a 200 response's body into this file as it arrives (made 0600; the
  // response's `body` stays empty; max_response_bytes does not apply); another
  // status's body is returned as usual.
  std::filesystem::path body_file;
};

struct ClientResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// The SHA-256 of a certificate's DER form as lower-case hex ("" if it has none).
std::string CertificateSha256(x509_st* certificate);

// Sends one request to `url` (http:// or https://). Throws kIo when the server
// cannot be reached or answers malformed HTTP, kInvalidArgument for a bad URL.
ClientResponse Fetch(const std::string& method, const std::string& url,
                     const std::map<std::string, std::string>& headers, const std::string& body,
                     const ClientOptions& options = {});

// GET returning the body of a 200 response; other statuses throw kIo.
std::string FetchBody(const std::string& url, const ClientOptions& options = {});

}  // namespace tarn::server
