// The interactive shell, driven through a pseudo-terminal as a person would:
// line editing and history, multi-line statements, Ctrl-C, backslash commands.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "server/server_fixture.h"

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

namespace tarn::testing {
namespace {

// `tarn ARGS` on a pseudo-terminal.
class Terminal {
 public:
  Terminal(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
    winsize ws{};
    ws.ws_col = 100;
    ws.ws_row = 40;
    pid_ = forkpty(&fd_, nullptr, nullptr, &ws);
    if (pid_ < 0) throw std::runtime_error("forkpty failed");
    if (pid_ == 0) {
      for (auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
      std::vector<char*> argv;
      std::string bin = TARN_BINARY;
      argv.push_back(bin.data());
      std::vector<std::string> copy = args;
      for (auto& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(TARN_BINARY, argv.data());
      _exit(127);
    }
  }
  ~Terminal() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(fd_);
  }
  void Send(const std::string& keys) {
    ASSERT_EQ(write(fd_, keys.data(), keys.size()), static_cast<ssize_t>(keys.size()));
  }
  // Reads until the screen output since the last Expect holds `text`; returns all read.
  std::string Expect(const std::string& text, std::chrono::seconds most = std::chrono::seconds(15)) {
    auto until = std::chrono::steady_clock::now() + most;
    while (seen_.find(text, from_) == std::string::npos && std::chrono::steady_clock::now() < until) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 100) > 0) {
        char buf[4096];
        ssize_t n = read(fd_, buf, sizeof buf);
        if (n <= 0) break;
        seen_.append(buf, n);
      }
    }
    auto at = seen_.find(text, from_);
    EXPECT_NE(at, std::string::npos) << "never saw '" << text << "' in:\n" << seen_.substr(from_);
    std::string out = seen_.substr(from_);
    if (at != std::string::npos) from_ = at + text.size();
    return out;
  }
  // Waits for the prompt, then a moment more: the prompt shows before the line
  // editor owns the terminal, and keys typed in between may be flushed by the
  // terminal mode switch (a person does not type within milliseconds of a prompt).
  void Prompt(const std::string& prompt = "tarn> ", std::chrono::seconds most = std::chrono::seconds(15)) {
    Expect(prompt, most);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
  }
  // The exit code, within 15 s (else -1, and the test fails with what was on screen).
  int Wait() {
    int status = 0;
    for (int i = 0; i < 150; i++) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "the shell did not exit; the screen showed:\n" << seen_.substr(from_);
    return -1;
  }

 private:
  int fd_ = -1;
  pid_t pid_ = -1;
  std::string seen_;
  size_t from_ = 0;
};

class ShellTest : public ServerTest {
 protected:
  std::map<std::string, std::string> Env() {
    return {{"XDG_STATE_HOME", state_.path().string()},
            {"XDG_CONFIG_HOME", state_.path().string()},
            {"TERM", "xterm"},
            {"TARN_TOKEN", ""}};
  }
  TempDir state_;
};

TEST_F(ShellTest, HistoryMultiLineStatementsAndCtrlCThatKeepsTheShell) {
  std::string data = dir_.path().string();
  {
    Terminal t({"sql", "--data-dir", data}, Env());
    // The first prompt comes after the engine starts: slow on a loaded machine.
    t.Prompt("tarn> ", std::chrono::seconds(60));
    // A statement over two lines, then recalled from history with the up arrow.
    t.Send("SELECT 41 + 1\r");
    t.Prompt("...> ");
    t.Send("AS answer;\r");
    t.Expect("|      42 |");
    t.Prompt();
    t.Send("\x1b[A\r");
    t.Expect("|      42 |");
    t.Prompt();
    // Ctrl-C cancels the running statement and the shell goes on.
    t.Send("SELECT count(*) FROM range(10000000000000) r(i) WHERE i % 7 = 3;\r");
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    t.Send("\x03");
    t.Expect("error: statement cancelled");
    t.Prompt();
    t.Send("SELECT 'still here' AS s;\r");
    t.Expect("still here");
    t.Prompt();
    // Ctrl-C on a half-typed line drops it.
    t.Send("SELECT 'never run");
    t.Send("\x03");
    t.Prompt();
    t.Send("\\timing\r");
    t.Expect("timing on");
    t.Send("SELECT 1 AS one;\r");
    t.Expect("Time: ");
    t.Send("\\nonsense\r");
    t.Expect("unknown command \\nonsense");
    t.Prompt();
    t.Send("\\q\r");
    EXPECT_EQ(t.Wait(), 0);
  }
  // The history is the owner's alone, and the next shell recalls it.
  auto history = state_.path() / "tarn" / "history";
  struct stat st {};
  ASSERT_EQ(stat(history.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(history);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_THAT(ss.str(), HasSubstr("answer;"));  // libedit writes spaces as \040
  EXPECT_THAT(ss.str(), Not(HasSubstr("never")));
  Terminal again({"sql", "--data-dir", data}, Env());
  again.Prompt("tarn> ", std::chrono::seconds(60));
  again.Send("\x1b[A\x1b[A\x1b[A\r");  // \q, SELECT 1, \timing ... the 3rd back is SELECT 1 AS one
  again.Expect("| one     |");
  again.Expect("tarn> ");
  // The prompt shows a moment before the editor owns the terminal; a Ctrl-D typed in
  // between reaches the terminal's own line discipline, not the shell.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  again.Send("\x04");  // Ctrl-D leaves
  EXPECT_EQ(again.Wait(), 0);
}

TEST_F(ShellTest, AgainstAServerCtrlCCancelsThereAndTablesComplete) {
  auto token = Login("admin", kAdminPassword);
  ASSERT_EQ(Sql(token, "CREATE DATABASE sales; CREATE TABLE sales.orders AS SELECT 1 AS order_id").status,
            200);
  auto env = Env();
  env["TARN_TOKEN"] = token;
  Terminal t({"sql", "--server", base_}, env);
  t.Expect("as admin");
  t.Expect("tarn> ");
  t.Send("SELECT order_id FROM sales.ord\t");
  t.Expect("ers");
  t.Send(";\r");
  t.Expect("|        1 |");
  t.Send("SELECT count(*) FROM range(10000000000000) r(i) WHERE i % 7 = 3;\r");
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  t.Send("\x03");
  t.Expect("error: statement cancelled");
  t.Expect("tarn> ");
  auto running = Json(Call("GET", "/v1/queries", token));
  EXPECT_TRUE(running["queries"].empty()) << running.dump();
  t.Send("\\x\r");
  t.Expect("expanded rows on");
  t.Send("SELECT 1 AS a, 'two' AS b;\r");
  t.Expect("b | two");
  t.Send("\\q\r");
  EXPECT_EQ(t.Wait(), 0);
}

}  // namespace
}  // namespace tarn::testing
