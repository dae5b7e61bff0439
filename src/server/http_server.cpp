#include "server/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>

#include <utility>  // before Asio: Boost 1.74 needs it in C++20

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>

#include "common/util.h"
#include "server/upload_routes.h"
#include "server/worker_pool.h"

namespace tarn::server {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

struct HttpServer::Impl {
  const ServerConfig& config;
  const Router& router;
  Metrics& metrics;
  Authenticator authenticate;

  net::io_context ioc;
  std::optional<ssl::context> tls;
  tcp::acceptor acceptor{ioc};
  std::unique_ptr<WorkerPool> workers;
  std::vector<std::thread> io_threads;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;

  std::atomic<bool> draining{false};
  std::atomic<int64_t> in_flight{0};
  std::mutex done_mu;
  std::condition_variable done_cv;
  bool stopped = false;

  Impl(const ServerConfig& c, const Router& r, Metrics& m, Authenticator a)
      : config(c), router(r), metrics(m), authenticate(std::move(a)) {}

  void Accept();
  // Routes `req`; a handler's `send_after` (see RequestContext) is moved to `send_after`.
  Response Dispatch(const Request& req, const std::string& request_id, size_t worker, int fd,
                    std::shared_ptr<BodyStream>& stream, std::string& route, std::string& principal,
                    std::function<void(std::function<void(std::exception_ptr)>)>& send_after);
  // The response for what a handler threw; the details of internal errors go to the log.
  Response Failure(std::exception_ptr thrown, const std::string& request_id, unsigned version);
  void Log(const Request& req, int status, double seconds, const std::string& principal,
           const std::string& id, const std::string& peer) {
    nlohmann::json line = {{"ts", NowUtc()},
                           {"msg", "request"},
                           {"method", std::string(req.method_string())},
                           {"path", std::string(req.target().substr(0, req.target().find('?')))},
                           {"status", status},
                           {"duration_ms", std::round(seconds * 1e6) / 1e3},
                           {"principal", principal},
                           {"request_id", id},
                           {"peer", peer}};
    std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::fwrite(text.data(), 1, text.size(), stderr);
  }
};

namespace {

// Whether the socket's peer is this machine: 127.0.0.0/8, ::1 or ::ffff:127.x.
bool IsLoopbackPeer(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return false;
  if (addr.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  if (addr.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
    if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) return true;
    return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127;
  }
  return false;
}

template <class Stream>
beast::tcp_stream& Lowest(Stream& s) {
  return beast::get_lowest_layer(s);
}

// One client connection: reads requests, hands them to workers, writes responses.
template <class Stream>
class Connection : public std::enable_shared_from_this<Connection<Stream>> {
 public:
  Connection(HttpServer::Impl& server, Stream stream, std::string peer)
      : server_(server), stream_(std::move(stream)), peer_(std::move(peer)) {
    server_.metrics.open_connections++;
  }
  ~Connection() { server_.metrics.open_connections--; }

  void Start() {
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      Lowest(stream_).expires_after(std::chrono::seconds(server_.config.read_timeout_s));
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (!ec) self->WaitForRequest();
                              });
    } else {
      WaitForRequest();
    }
  }

 private:
  // Waits up to idle_timeout for the first bytes of the next request.
  void WaitForRequest() {
    if (server_.draining) return Close();
    if (buffer_.size() > 0) return ReadRequest();
    Lowest(stream_).expires_after(std::chrono::seconds(server_.config.idle_timeout_s));
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->Close();
                              self->buffer_.commit(n);
                              self->ReadRequest();
                            });
  }

  // Reads the whole request within read_timeout, within the size limits.
  void ReadRequest() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_.config.max_header_bytes));
    // The head first, under the larger limit (beast checks a Content-Length against it
    // as the head ends): then the route decides, as upload routes take larger bodies.
    parser_->body_limit(std::max(server_.config.max_body_bytes, server_.config.max_upload_bytes));
    Lowest(stream_).expires_after(std::chrono::seconds(server_.config.read_timeout_s));
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->OnRead(ec);
                              self->ReadBody();
                            });
  }

  void ReadBody() {
    std::string_view target(parser_->get().target().data(), parser_->get().target().size());
    bool upload =
        parser_->get().method() == http::verb::post && IsUploadPath(target.substr(0, target.find('?')));
    size_t limit = upload ? server_.config.max_upload_bytes : server_.config.max_body_bytes;
    if (parser_->content_length() && *parser_->content_length() > limit)
      return OnRead(http::error::body_limit);
    parser_->body_limit(limit);
    if (upload) Lowest(stream_).expires_after(std::chrono::seconds(server_.config.upload_timeout_s));
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset || ec == net::error::eof) {
      return Close();
    }
    std::string id = RandomHex(8);
    if (ec == http::error::header_limit)
      return Fail(http::status::request_header_fields_too_large, "headers too large", id);
    if (ec == http::error::body_limit)
      return Fail(http::status::payload_too_large, "request body too large", id);
    if (ec) return Fail(http::status::bad_request, "malformed HTTP request", id);
    request_ = parser_->release();
    start_ = std::chrono::steady_clock::now();
    server_.in_flight++;
    auto self = this->shared_from_this();
    bool queued = server_.workers->Submit([self, id](size_t worker) {
      std::string route, principal;
      // The worker owns the connection until it answers: no I/O runs on it meanwhile.
      int fd = Lowest(self->stream_).socket().native_handle();
      std::function<void(std::function<void(std::exception_ptr)>)> send_after;
      std::shared_ptr<BodyStream> body;
      Response res =
          self->server_.Dispatch(self->request_, id, worker, fd, body, route, principal, send_after);
      if (body) {
        self->body_ = std::move(body);
        res.keep_alive(false);
      }
      auto send = [self, id, route, principal](Response res) {
        net::post(self->stream_.get_executor(), [self, res = std::move(res), id, route, principal]() mutable {
          self->Write(std::move(res), id, route, principal);
        });
      };
      if (!send_after) return send(std::move(res));
      auto held = std::make_shared<Response>(std::move(res));
      send_after([self, held, send, id](std::exception_ptr error) {
        if (error) *held = self->server_.Failure(error, id, self->request_.version());
        send(std::move(*held));
      });
    });
    if (!queued) {
      Response res = ErrorResponse(Error::ResourceExhausted("the server is busy: try again shortly"), id,
                                   request_.version());
      Write(std::move(res), id, "overloaded", "");
    }
  }

  void Fail(http::status status, const char* message, const std::string& id) {
    Response res = JsonResponse(
        status, {{"error", {{"code", "invalid_argument"}, {"message", message}, {"request_id", id}}}}, 11);
    res.keep_alive(false);
    res.set("X-Request-Id", id);
    auto self = this->shared_from_this();
    auto shared = std::make_shared<Response>(std::move(res));
    Lowest(stream_).expires_after(std::chrono::seconds(server_.config.read_timeout_s));
    http::async_write(stream_, *shared, [self, shared](beast::error_code ec, size_t) {
      if (ec) return self->Close();
      self->Linger();
    });
  }

  // After refusing a request the client may still be sending: closing a socket with
  // unread bytes resets the connection, and a reset can reach the client before it has
  // read the refusal. So: end our side, then read and drop what the client still sends
  // (for at most kLingerSeconds and kLingerBytes) until it closes its side.
  static constexpr int kLingerSeconds = 10;
  static constexpr size_t kLingerBytes = size_t{64} << 20;
  void Linger() {
    beast::error_code ec;
    Lowest(stream_).socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return;
    drain_.resize(size_t{64} << 10);
    Lowest(stream_).expires_after(std::chrono::seconds(kLingerSeconds));
    Drain(0);
  }
  void Drain(size_t dropped) {
    if (dropped > kLingerBytes) return;  // the socket closes with the connection
    Lowest(stream_).async_read_some(
        net::buffer(drain_), [self = this->shared_from_this(), dropped](beast::error_code ec, size_t n) {
          if (!ec) self->Drain(dropped + n);
        });
  }

  void Write(Response res, const std::string& id, const std::string& route, const std::string& principal) {
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    int status = static_cast<int>(res.result_int());
    server_.metrics.ObserveRequest(std::string(request_.method_string()), route, status, seconds);
    server_.Log(request_, status, seconds, principal, id, peer_);
    res.set("X-Request-Id", id);
    res.keep_alive(request_.keep_alive() && !server_.draining &&
                   !body_);  // a stream ends with the connection
    auto shared = std::make_shared<Response>(std::move(res));
    auto self = this->shared_from_this();
    Lowest(stream_).expires_after(std::chrono::seconds(std::max(30, server_.config.read_timeout_s)));
    if (body_) {  // the head only: the stream follows
      auto head = std::make_shared<http::response_serializer<http::string_body>>(*shared);
      http::async_write_header(stream_, *head, [self, shared, head](beast::error_code ec, size_t) {
        self->server_.in_flight--;  // a stream does not hold up a shutdown's grace period
        self->server_.done_cv.notify_all();
        if (ec) return self->Close();
        std::weak_ptr<Connection> weak = self;
        self->body_->Start([weak, exec = self->stream_.get_executor()] {
          net::post(exec, [weak] {
            if (auto c = weak.lock()) c->timer_.cancel();
          });
        });
        self->Pump();
      });
      return;
    }
    http::async_write(stream_, *shared, [self, shared](beast::error_code ec, size_t) {
      self->server_.in_flight--;
      self->server_.done_cv.notify_all();
      if (ec || !shared->keep_alive()) return self->Close();
      self->WaitForRequest();
    });
  }

  // Sends what the body stream has ready; with nothing ready, waits to be woken, or
  // for the stream's MaxWait (at most kKeepAliveSeconds), after which an SSE comment line keeps proxies from
  // timing the connection out and finds a client that went away.
  static constexpr int kKeepAliveSeconds = 15;
  void Pump() {
    bool ended = false;
    std::string data = body_->Pull(ended);
    if (data.empty() && (ended || server_.draining)) return Close();
    if (data.empty()) {
      timer_.expires_after(std::clamp<std::chrono::milliseconds>(
          body_->MaxWait(), std::chrono::milliseconds(10), std::chrono::seconds(kKeepAliveSeconds)));
      timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
        if (ec) return self->Pump();  // woken
        self->Send(":\n\n");
      });
      return;
    }
    Send(std::move(data));
  }
  void Send(std::string data) {
    auto shared = std::make_shared<std::string>(std::move(data));
    Lowest(stream_).expires_after(std::chrono::seconds(std::max(30, server_.config.read_timeout_s)));
    net::async_write(stream_, net::buffer(*shared),
                     [self = this->shared_from_this(), shared](beast::error_code ec, size_t) {
                       if (ec) return self->Close();
                       self->Pump();
                     });
  }

  void Close() {
    beast::error_code ec;
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      Lowest(stream_).expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::error_code ignored;
        Lowest(self->stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
      });
    } else {
      Lowest(stream_).socket().shutdown(tcp::socket::shutdown_both, ec);
    }
  }

  HttpServer::Impl& server_;
  Stream stream_;
  std::string peer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Request request_;
  std::chrono::steady_clock::time_point start_;
  std::vector<char> drain_;                          // scratch for Linger
  std::shared_ptr<BodyStream> body_;                 // a streamed response's body, once there is one
  net::steady_timer timer_{stream_.get_executor()};  // a body stream's wait
};

std::string Peer(const tcp::socket& s) {
  beast::error_code ec;
  auto ep = s.remote_endpoint(ec);
  return ec ? "" : ep.address().to_string() + ":" + std::to_string(ep.port());
}

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
      return Accept();
    }
    if (draining || static_cast<size_t>(metrics.open_connections.load()) >= config.max_connections) {
      beast::error_code ignored;
      socket.close(ignored);
      return Accept();
    }
    std::string peer = Peer(socket);
    if (tls) {
      std::make_shared<Connection<beast::ssl_stream<beast::tcp_stream>>>(
          *this, beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *tls), peer)
          ->Start();
    } else {
      std::make_shared<Connection<beast::tcp_stream>>(*this, beast::tcp_stream(std::move(socket)), peer)
          ->Start();
    }
    Accept();
  });
}

Response HttpServer::Impl::Dispatch(
    const Request& req, const std::string& id, size_t worker, int fd, std::shared_ptr<BodyStream>& stream,
    std::string& route, std::string& principal,
    std::function<void(std::function<void(std::exception_ptr)>)>& send_after) {
  unsigned version = req.version();
  try {
    std::string_view target(req.target().data(), req.target().size());
    auto q = target.find('?');
    RequestContext ctx{
        req, UrlDecode(target.substr(0, q), false), {}, {}, id, std::nullopt, worker, false, false, {}, {},
        {}};
    ctx.client_gone = [fd] {
      // The peer closed (FIN or reset): a client that only sent its next request is still there.
      pollfd p{fd, static_cast<short>(POLLRDHUP), 0};
      return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
    };
    for (unsigned char c : ctx.path) {
      if (c < 0x20 || c == 0x7f) {
        route = "unmatched";
        throw Error::InvalidArgument(
            "the request path holds a control character (such as %00 or %0A): names "
            "in paths are printable");
      }
    }
    if (q != std::string_view::npos) ctx.query = ParseForm(target.substr(q + 1));
    ctx.secure = tls.has_value();
    ctx.loopback = IsLoopbackPeer(fd);
    bool path_known = false;
    const Route* r = router.Match(req.method(), ctx.path, ctx.params, path_known);
    if (!r) {
      route = "unmatched";
      if (path_known) {
        return JsonResponse(http::status::method_not_allowed,
                            {{"error",
                              {{"code", "invalid_argument"},
                               {"message", "method not allowed on this path"},
                               {"request_id", id}}}},
                            version);
      }
      throw Error::NotFound("no such endpoint: see docs/api/openapi.yaml");
    }
    route = r->pattern;
    if (r->authenticated) {
      ctx.principal = authenticate(req, worker);
      principal = ctx.principal->user;
    }
    Response res = r->handler(ctx);
    if (ctx.principal) principal = ctx.principal->user;  // routes that authenticate themselves (Livy)
    send_after = std::move(ctx.send_after);
    stream = std::move(ctx.stream);
    return res;
  } catch (...) {
    return Failure(std::current_exception(), id, version);
  }
}

Response HttpServer::Impl::Failure(std::exception_ptr thrown, const std::string& id, unsigned version) {
  try {
    std::rethrow_exception(thrown);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kInternal || e.code() == ErrorCode::kIo ||
        e.code() == ErrorCode::kUnauthenticated) {
      nlohmann::json line = {{"ts", NowUtc()},
                             {"msg", "request failed"},
                             {"request_id", id},
                             {"code", std::string(ErrorCodeName(e.code()))},
                             {"detail", e.what()}};
      std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      std::fwrite(text.data(), 1, text.size(), stderr);
    }
    return ErrorResponse(e, id, version);
  } catch (const std::exception& e) {
    nlohmann::json line = {
        {"ts", NowUtc()}, {"msg", "request failed"}, {"request_id", id}, {"detail", e.what()}};
    std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::fwrite(text.data(), 1, text.size(), stderr);
    return ErrorResponse(Error::Internal("{}", e.what()), id, version);
  } catch (...) {
    return ErrorResponse(Error::Internal("an unknown exception"), id, version);
  }
}

HttpServer::HttpServer(const ServerConfig& config, const Router& router, Metrics& metrics, Authenticator auth)
    : impl_(std::make_unique<Impl>(config, router, metrics, std::move(auth))) {}

HttpServer::~HttpServer() {
  if (impl_->work) Shutdown([] {});
}

void HttpServer::Start(const std::function<void(uint16_t)>& before_serving) {
  auto& s = *impl_;
  if (s.config.tls()) {
    s.tls.emplace(ssl::context::tls_server);
    s.tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    SSL_CTX_set_min_proto_version(s.tls->native_handle(), TLS1_2_VERSION);
    try {
      s.tls->use_certificate_chain_file(s.config.tls_cert.string());
      s.tls->use_private_key_file(s.config.tls_key.string(), ssl::context::pem);
    } catch (const std::exception& e) {
      throw Error::InvalidArgument("cannot load the TLS certificate or key: {}", e.what());
    }
  }
  beast::error_code ec;
  auto address = net::ip::make_address(s.config.host, ec);
  if (ec) {
    tcp::resolver resolver(s.ioc);
    auto results = resolver.resolve(s.config.host, std::to_string(s.config.port), ec);
    if (ec || results.empty()) throw Error::InvalidArgument("cannot resolve listen host {}", s.config.host);
    address = results.begin()->endpoint().address();
  }
  tcp::endpoint endpoint(address, s.config.port);
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) throw Error::Io("cannot listen on {}:{}: {}", s.config.host, s.config.port, ec.message());
  if (before_serving) before_serving(port());
  s.workers = std::make_unique<WorkerPool>(s.config.workers, s.config.max_queue);
  s.work.emplace(s.ioc.get_executor());
  s.Accept();
  unsigned n = std::max(2u, std::min(4u, std::thread::hardware_concurrency()));
  for (unsigned i = 0; i < n; i++) s.io_threads.emplace_back([&s] { s.ioc.run(); });
}

uint16_t HttpServer::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

size_t HttpServer::queue_depth() const {
  return impl_->workers ? impl_->workers->QueueDepth() : 0;
}

void HttpServer::Shutdown(const std::function<void()>& cancel) {
  auto& s = *impl_;
  if (!s.work) return;
  s.draining = true;
  net::post(s.ioc, [&s] {
    beast::error_code ec;
    s.acceptor.close(ec);
  });
  {
    std::unique_lock<std::mutex> lock(s.done_mu);
    bool drained = s.done_cv.wait_for(lock, std::chrono::seconds(s.config.shutdown_grace_s),
                                      [&] { return s.in_flight.load() == 0; });
    if (!drained) {
      lock.unlock();
      cancel();
      lock.lock();
      s.done_cv.wait_for(lock, std::chrono::seconds(10), [&] { return s.in_flight.load() == 0; });
    }
  }
  s.workers->Stop();
  s.work.reset();
  s.ioc.stop();
  for (auto& t : s.io_threads) {
    if (t.joinable()) t.join();
  }
  s.io_threads.clear();
  {
    std::lock_guard<std::mutex> lock(s.done_mu);
    s.stopped = true;
  }
  s.done_cv.notify_all();
}

void HttpServer::Wait() {
  auto& s = *impl_;
  std::unique_lock<std::mutex> lock(s.done_mu);
  s.done_cv.wait(lock, [&] { return s.stopped; });
}

}  // namespace tarn::server
