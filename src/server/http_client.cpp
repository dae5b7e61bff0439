#include "server/http_client.h"

#include <utility>  // before Asio: Boost 1.74 needs it in C++20

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <limits>

#include "audit/audit_log.h"
#include "common/error.h"

namespace tarn::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

struct Url {
  bool tls = false;
  std::string host, port, target;
};

Url ParseUrl(const std::string& url) {
  Url u;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    u.tls = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    throw Error::InvalidArgument("URL '{}' must start with http:// or https://", url);
  }
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (authority.empty() || authority.find('@') != std::string::npos) {
    throw Error::InvalidArgument("URL '{}' has no usable host", url);
  }
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos) throw Error::InvalidArgument("URL '{}' has a bad IPv6 host", url);
    u.host = authority.substr(1, close - 1);
    u.port = close + 2 <= authority.size() ? authority.substr(close + 2) : "";
  } else {
    auto colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    u.port = colon == std::string::npos ? "" : authority.substr(colon + 1);
  }
  if (u.port.empty()) u.port = u.tls ? "443" : "80";
  return u;
}

ClientResponse Head(const http::fields& fields, unsigned status) {
  ClientResponse out;
  out.status = static_cast<int>(status);
  for (auto& f : fields) {
    std::string name(f.name_string());
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    out.headers[name] = std::string(f.value());
  }
  return out;
}

// The response's body straight into options.body_file (a 200's; another status's is
// read back into `body` and the file removed).
template <class Stream>
ClientResponse ExchangeToFile(Stream& stream, beast::flat_buffer& buffer, const ClientOptions& options) {
  http::response_parser<http::file_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // on disk, not in memory
  beast::error_code ec;
  ::close(::open(options.body_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  parser.get().body().open(options.body_file.c_str(), beast::file_mode::write, ec);
  if (ec) throw Error::Io("cannot write {}: {}", options.body_file.string(), ec.message());
  http::read(stream, buffer, parser);
  parser.get().body().close();
  auto out = Head(parser.get().base(), parser.get().result_int());
  if (out.status != 200) {
    std::ifstream in(options.body_file, std::ios::binary);
    out.body.assign(std::istreambuf_iterator<char>(in), {});
    std::error_code gone;
    std::filesystem::remove(options.body_file, gone);
  }
  return out;
}

template <class Stream>
ClientResponse Exchange(Stream& stream, beast::tcp_stream& lowest, http::request<http::string_body>& req,
                        const ClientOptions& options) {
  lowest.expires_after(options.timeout);
  http::write(stream, req);
  beast::flat_buffer buffer;
  if (!options.body_file.empty()) return ExchangeToFile(stream, buffer, options);
  http::response_parser<http::string_body> parser;
  parser.body_limit(options.max_response_bytes);
  http::read(stream, buffer, parser);
  auto& res = parser.get();
  auto out = Head(res.base(), res.result_int());
  out.body = std::move(res.body());
  return out;
}

}  // namespace

std::string CertificateSha256(X509* certificate) {
  unsigned char* der = nullptr;
  int n = certificate ? i2d_X509(certificate, &der) : -1;
  if (n <= 0) return "";
  std::string hash =
      audit::Sha256Hex(std::string_view(reinterpret_cast<const char*>(der), static_cast<size_t>(n)));
  OPENSSL_free(der);
  return hash;
}

ClientResponse Fetch(const std::string& method, const std::string& url,
                     const std::map<std::string, std::string>& headers, const std::string& body,
                     const ClientOptions& options) {
  Url u = ParseUrl(url);
  try {
    net::io_context ioc;
    tcp::resolver resolver(ioc);
    auto endpoints = resolver.resolve(u.host, u.port);
    http::request<http::string_body> req{http::string_to_verb(method), u.target, 11};
    req.set(http::field::host, u.host);
    req.set(http::field::user_agent, "tarn");
    for (auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    if (!u.tls) {
      beast::tcp_stream stream(ioc);
      stream.expires_after(options.timeout);
      stream.connect(endpoints);
      auto res = Exchange(stream, stream, req, options);
      beast::error_code ec;
      stream.socket().shutdown(tcp::socket::shutdown_both, ec);
      return res;
    }
    ssl::context ctx(ssl::context::tls_client);
    ctx.set_options(ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                    ssl::context::no_tlsv1_1);
    if (options.insecure) {
      ctx.set_verify_mode(ssl::verify_none);
    } else if (!options.pinned_sha256.empty()) {
      ctx.set_verify_mode(ssl::verify_peer);
      ctx.set_verify_callback([pin = options.pinned_sha256](bool, ssl::verify_context& v) {
        auto* store = v.native_handle();
        if (X509_STORE_CTX_get_error_depth(store) > 0) return true;  // the leaf alone decides
        return CertificateSha256(X509_STORE_CTX_get_current_cert(store)) == pin;
      });
    } else {
      if (options.ca_file.empty()) {
        ctx.set_default_verify_paths();
      } else {
        ctx.load_verify_file(options.ca_file);
      }
      ctx.set_verify_mode(ssl::verify_peer);
      ctx.set_verify_callback(ssl::host_name_verification(u.host));
    }
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    if (!SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str())) {
      throw Error::Io("cannot set TLS server name");
    }
    beast::get_lowest_layer(stream).expires_after(options.timeout);
    beast::get_lowest_layer(stream).connect(endpoints);
    stream.handshake(ssl::stream_base::client);
    auto res = Exchange(stream, beast::get_lowest_layer(stream), req, options);
    beast::error_code ec;
    stream.shutdown(ec);
    return res;
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error::Io("cannot reach {}://{}:{}: {}", u.tls ? "https" : "http", u.host, u.port, e.what());
  }
}

std::string FetchBody(const std::string& url, const ClientOptions& options) {
  auto res = Fetch("GET", url, {}, "", options);
  if (res.status != 200) throw Error::Io("GET {} answered {}", url, res.status);
  return res.body;
}

bool HttpsOrLoopback(const std::string& url) {
  return url.rfind("https://", 0) == 0 || url.rfind("http://127.", 0) == 0 ||
         url.rfind("http://localhost", 0) == 0 || url.rfind("http://[::1]", 0) == 0;
}

}  // namespace tarn::server
