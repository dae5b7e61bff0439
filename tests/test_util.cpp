#include "test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>
#include <libpq-fe.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace fs = std::filesystem;

namespace tarn::testing {

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "tarn-test.XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = fs::canonical(tmpl);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {

std::string ReadFd(int fd) {
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, n);
  return out;
}

std::vector<std::string> Environment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e; e++) {
    std::string kv = *e;
    auto key = kv.substr(0, kv.find('='));
    if (!extra.count(key)) env.push_back(kv);
  }
  for (auto& [k, v] : extra) env.push_back(k + "=" + v);
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> p;
  for (auto& s : strings) p.push_back(s.data());
  p.push_back(nullptr);
  return p;
}

// Starts build/tarn with `args` and the file actions `fa` (which it destroys).
pid_t Start(const std::string& program, const std::vector<std::string>& args,
            const std::map<std::string, std::string>& env, posix_spawn_file_actions_t* fa) {
  std::vector<std::string> argv = {program};
  argv.insert(argv.end(), args.begin(), args.end());
  auto envs = Environment(env);
  auto argp = Pointers(argv);
  auto envp = Pointers(envs);
  pid_t pid;
  int rc = posix_spawn(&pid, program.c_str(), fa, nullptr, argp.data(), envp.data());
  posix_spawn_file_actions_destroy(fa);
  if (rc != 0) throw std::runtime_error("cannot start " + program);
  return pid;
}

pid_t StartTarn(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                posix_spawn_file_actions_t* fa) {
  return Start(TARN_BINARY, args, env, fa);
}

}  // namespace

CommandResult RunTarn(const std::vector<std::string>& args, const std::string& input,
                      const std::map<std::string, std::string>& env) {
  return RunProgram(TARN_BINARY, args, input, env);
}

CommandResult RunProgram(const std::string& program, const std::vector<std::string>& args,
                         const std::string& input, const std::map<std::string, std::string>& env) {
  int in[2], out[2], err[2];
  if (pipe(in) || pipe(out) || pipe(err)) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  for (int fd : {in[1], out[0], err[0], in[0], out[1], err[1]}) posix_spawn_file_actions_addclose(&fa, fd);
  pid_t pid = Start(program, args, env, &fa);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  std::thread writer([&] {
    size_t off = 0;
    while (off < input.size()) {
      ssize_t n = write(in[1], input.data() + off, input.size() - off);
      if (n <= 0) break;
      off += n;
    }
    close(in[1]);
  });
  CommandResult r;
  std::thread err_reader([&] { r.err = ReadFd(err[0]); });
  r.out = ReadFd(out[0]);
  err_reader.join();
  writer.join();
  close(out[0]);
  close(err[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

int SpawnTarn(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  return StartTarn(args, env, &fa);
}

bool PostgresRequired() {
  const char* ci = std::getenv("CI");
  return (ci && std::string(ci) == "true") || std::getenv("TARN_TEST_PG_URL");
}

namespace {

std::string WithDatabase(const std::string& url, const std::string& db) {
  auto slash = url.rfind('/');
  auto query = url.find('?', slash);
  return url.substr(0, slash + 1) + db + (query == std::string::npos ? "" : url.substr(query));
}

}  // namespace

void PgExec(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(c);
    PQfinish(c);
    throw std::runtime_error("cannot reach test PostgreSQL: " + msg);
  }
  PGresult* r = PQexec(c, sql.c_str());
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
  std::string msg = PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(c);
  if (!ok) throw std::runtime_error(sql + ": " + msg);
}

TestMetastore::TestMetastore(const std::string& backend, const fs::path& dir) {
  if (backend == "sqlite") {
    location_ = (dir / "metadata.sqlite").string();
    return;
  }
  const char* url = std::getenv("TARN_TEST_PG_URL");
  if (!url || !*url) return;
  admin_url_ = url;
  static std::atomic<int> counter{0};
  std::random_device rd;
  database_ = "tarn_test_" + std::to_string(getpid()) + "_" + std::to_string(rd() % 1000000) + "_" +
              std::to_string(counter++);
  PgExec(admin_url_, "CREATE DATABASE " + database_);
  location_ = WithDatabase(admin_url_, database_);
}

TestMetastore::~TestMetastore() {
  if (database_.empty()) return;
  try {
    PgExec(admin_url_, "DROP DATABASE IF EXISTS " + database_ + " WITH (FORCE)");
  } catch (...) {
  }
}

void WriteFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace tarn::testing
