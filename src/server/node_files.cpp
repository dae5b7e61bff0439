#include "server/node_files.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include "common/error.h"
#include "common/free_with.h"
#include "common/util.h"
#include "scale/node_scratch.h"
#include "server/http_client.h"
#include "server/http_server.h"

namespace tarn::server {

namespace fs = std::filesystem;

namespace {

using PkeyPtr = std::unique_ptr<EVP_PKEY, FreeWith<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, FreeWith<X509_free>>;
using BioPtr = std::unique_ptr<BIO, FreeWith<BIO_free_all>>;

std::string Pem(const std::function<int(BIO*)>& write) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) throw Error::Internal("cannot write a PEM block");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

// A fresh EC P-256 key and a self-signed certificate for it (valid 400 days), written
// as `dir`/node.key and node.pem (0600); returns the certificate's SHA-256.
std::string MakeCertificate(const fs::path& dir) {
  PkeyPtr key(EVP_EC_gen("P-256"));
  X509Ptr cert(X509_new());
  if (!key || !cert) throw Error::Internal("cannot make the node's key");
  X509_set_version(cert.get(), 2);
  auto serial = RandomBytes(16);
  BIGNUM* bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(serial.data()), 15, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 400L * 86400);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("tarn node"),
                             -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0)
    throw Error::Internal("cannot sign the node's certificate");
  WriteFileAtomic(dir / "node.key", Pem([&](BIO* b) {
                    return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
                  }),
                  0600);
  WriteFileAtomic(dir / "node.pem", Pem([&](BIO* b) { return PEM_write_bio_X509(b, cert.get()); }), 0600);
  return CertificateSha256(cert.get());
}

std::string Capability(const RequestContext& ctx) {
  auto it = ctx.request.find(http::field::authorization);
  std::string value = it == ctx.request.end() ? "" : std::string(it->value());
  return value.rfind("Capability ", 0) == 0 ? value.substr(11) : "";
}

Error NoSuchFiles() {
  return Error::NotFound("no such files");
}

// The folder `ctx` names, once its capability opens it.
fs::path OpenFolder(const fs::path& files, RequestContext& ctx) {
  const std::string& dir = ctx.params["dir"];
  if (!scale::IsScratchName(dir) || !scale::Opens(files / dir, Capability(ctx))) throw NoSuchFiles();
  return files / dir;
}

// A file sent after its response's head, a MiB at a time (never whole in memory).
class FileStream : public BodyStream {
 public:
  explicit FileStream(const fs::path& file) : in_(file, std::ios::binary) {
    if (!in_) throw NoSuchFiles();
  }
  void Start(std::function<void()>) override {}
  std::string Pull(bool& ended) override {
    std::string chunk(size_t{1} << 20, '\0');
    in_.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    chunk.resize(static_cast<size_t>(in_.gcount()));
    ended = chunk.empty();
    return chunk;
  }

 private:
  std::ifstream in_;
};

void Sweep(const fs::path& files, std::chrono::hours keep) {
  std::error_code ec;
  auto now = fs::file_time_type::clock::now();
  for (auto& entry : fs::directory_iterator(files, ec)) {
    auto written = entry.last_write_time(ec);
    if (!ec && now - written > keep) fs::remove_all(entry.path(), ec);
  }
}

}  // namespace

struct NodeFileService::Impl {
  NodeFileServiceOptions options;
  ServerConfig config;
  Router router;
  Metrics metrics;
  std::unique_ptr<HttpServer> http;
  std::string url, sha256;
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  std::thread sweeper;

  fs::path files() const { return options.root / "files"; }
};

NodeFileService::NodeFileService(NodeFileServiceOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}

NodeFileService::~NodeFileService() {
  try {
    Shutdown();
  } catch (const std::exception&) {
  }
}

void NodeFileService::Start() {
  auto& s = *impl_;
  std::error_code ec;
  fs::create_directories(s.files(), ec);
  if (ec) throw Error::Io("cannot make the node scratch {}: {}", s.files().string(), ec.message());
  fs::permissions(s.options.root, fs::perms::owner_all, ec);
  fs::permissions(s.files(), fs::perms::owner_all, ec);
  Sweep(s.files(), s.options.keep);
  s.sha256 = MakeCertificate(s.options.root);
  s.config.host = s.options.host;
  s.config.port = s.options.port;
  s.config.tls_cert = s.options.root / "node.pem";
  s.config.tls_key = s.options.root / "node.key";
  s.config.workers = s.options.workers;
  s.config.max_body_bytes = 1024;
  s.config.read_timeout_s = 30;
  s.router.Add(http::verb::get, "/v1/node/files/{dir}", false, [&s](RequestContext& ctx) {
    auto dir = OpenFolder(s.files(), ctx);
    auto it = ctx.query.find("file");
    if (it == ctx.query.end() || !scale::IsScratchFile(it->second)) throw NoSuchFiles();
    std::error_code ec;
    fs::path file = dir / it->second;
    if (fs::is_symlink(fs::symlink_status(file, ec)) || !fs::is_regular_file(file, ec)) throw NoSuchFiles();
    auto size = fs::file_size(file, ec);
    if (ec) throw NoSuchFiles();
    ctx.stream = std::make_shared<FileStream>(file);
    Response res{http::status::ok, ctx.request.version()};
    res.set(http::field::content_type, "application/vnd.apache.parquet");
    res.content_length(size);
    return res;
  });
  s.router.Add(http::verb::delete_, "/v1/node/files/{dir}", false, [&s](RequestContext& ctx) {
    auto dir = OpenFolder(s.files(), ctx);
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (ec) throw Error::Io("cannot remove {}: {}", dir.filename().string(), ec.message());
    return JsonResponse(http::status::ok, {{"removed", dir.filename().string()}}, ctx.request.version());
  });
  s.http = std::make_unique<HttpServer>(s.config, s.router, s.metrics,
                                        [](const Request&, size_t) -> identity::Principal {
                                          throw Error(ErrorCode::kUnauthenticated, "no such files");
                                        });
  s.http->Start();
  std::string host = s.options.advertise;
  if (host.empty()) {
    char name[256] = {};
    gethostname(name, sizeof name - 1);
    host = name;
  }
  s.url = "https://" + host + ":" + std::to_string(s.http->port());
  scale::WriteNodeService(s.options.root, {s.url, s.sha256, static_cast<int64_t>(getpid())});
  s.sweeper = std::thread([&s] {
    std::unique_lock lock(s.mu);
    while (!s.cv.wait_for(lock, std::chrono::minutes(5), [&s] { return s.stopping; }))
      Sweep(s.files(), s.options.keep);
  });
}

std::string NodeFileService::url() const {
  return impl_->url;
}
std::string NodeFileService::sha256() const {
  return impl_->sha256;
}

void NodeFileService::Shutdown() {
  auto& s = *impl_;
  {
    std::lock_guard lock(s.mu);
    if (s.stopping) return;
    s.stopping = true;
  }
  s.cv.notify_all();
  if (s.sweeper.joinable()) s.sweeper.join();
  std::error_code ec;
  fs::remove(s.options.root / "service.json", ec);
  if (s.http) s.http->Shutdown([] {});
}

void NodeFileService::Wait() {
  if (impl_->http) impl_->http->Wait();
}

namespace {

ClientResponse AskNode(const std::string& method, const nlohmann::json& node, const std::string& query,
                       std::chrono::seconds timeout, const fs::path& into = {}) {
  ClientOptions options;
  options.body_file = into;
  options.pinned_sha256 = node.at("sha256").get<std::string>();
  options.timeout = timeout;
  std::string dir = node.at("dir").get<std::string>();
  return Fetch(method, node.at("url").get<std::string>() + "/v1/node/files/" + UrlEncode(dir) + query,
               {{"Authorization", "Capability " + node.at("capability").get<std::string>()}}, "", options);
}

}  // namespace

void FetchNodeFile(const nlohmann::json& from, const fs::path& to) {
  auto file = from.at("file").get<std::string>();
  fs::path part = to;
  part += ".part";
  ClientResponse r;
  try {
    r = AskNode("GET", from, "?file=" + UrlEncode(file), std::chrono::seconds(120), part);
  } catch (const Error&) {
    std::error_code ec;
    fs::remove(part, ec);
    throw;
  }
  if (r.status != 200)
    throw Error::Io("{} answered {} for {} of {}", from.at("url").get<std::string>(), r.status, file,
                    from.at("dir").get<std::string>());
  std::error_code ec;
  fs::rename(part, to, ec);
  if (ec) throw Error::Io("cannot write {}: {}", to.string(), ec.message());
}

void RemoveNodeFiles(const nlohmann::json& node_files) {
  auto r = AskNode("DELETE", node_files, "", std::chrono::seconds(10));
  if (r.status != 200 && r.status != 404)
    throw Error::Io("{} answered {}", node_files.at("url").get<std::string>(), r.status);
}

}  // namespace tarn::server
