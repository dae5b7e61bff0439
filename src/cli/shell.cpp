#include "cli/shell.h"

#include <editline/readline.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

#include "common/error.h"
#include "engine/sql_text.h"

namespace fs = std::filesystem;

namespace tarn::cli {

namespace {

constexpr const char* kHelp =
    "Statements end with ';' and may span lines. Ctrl-C cancels a running statement\n"
    "(or clears the line), Ctrl-D or \\q leaves. Tab completes databases, tables, columns.\n"
    "  \\help                this text\n"
    "  \\q                   quit\n"
    "  \\timing              show how long each statement took (on/off)\n"
    "  \\format table|csv|json   how rows are printed\n"
    "  \\x                   expanded rows: one line per column (on/off)\n";

fs::path HistoryFile() {
  const char* state = std::getenv("XDG_STATE_HOME");
  const char* home = std::getenv("HOME");
  fs::path base = state && *state ? fs::path(state) : fs::path(home && *home ? home : ".") / ".local/state";
  return base / "tarn" / "history";
}

// Completion reads the names of the running shell: libedit calls back a plain C
// function, so they live here while RunShell runs (the shell is single-threaded).
std::vector<std::string>* g_names = nullptr;

char* NextName(const char* text, int state) {
  static size_t next;
  if (state == 0) next = 0;
  size_t len = std::strlen(text);
  while (g_names && next < g_names->size()) {
    const auto& n = (*g_names)[next++];
    if (n.compare(0, len, text) == 0) return strdup(n.c_str());
  }
  return nullptr;
}

// libedit reads keys through this: a Ctrl-C that comes while the editor is busy (not
// blocked in read) must end the line too, so it waits on the keyboard and on the
// interrupt pipe, and answers a newline for a Ctrl-C (the shell then drops the line).
int g_interrupt_fd = -1;

int ReadKey(FILE* in) {
  while (true) {
    pollfd p[2] = {{fileno(in), POLLIN, 0}, {g_interrupt_fd, POLLIN, 0}};
    if (::poll(p, g_interrupt_fd >= 0 ? 2 : 1, -1) < 0) continue;  // EINTR: look again
    if (p[1].revents & POLLIN) return '\n';
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      unsigned char c;
      ssize_t n = ::read(fileno(in), &c, 1);
      if (n == 1) return c;
      if (n == 0 || errno != EINTR) return EOF;
    }
  }
}

char** Complete(const char* text, int, int) {
  rl_attempted_completion_over = 1;  // no file-name completion
  return rl_completion_matches(text, NextName);
}

// True when `buffer` holds whole statements: it ends with ';' outside quotes and comments.
bool IsWhole(const std::string& buffer) {
  try {
    auto tokens = engine::Tokenize(buffer);
    return !tokens.empty() && tokens.back().kind == engine::Token::kSymbol && tokens.back().text == ";";
  } catch (const Error&) {
    return false;  // an open quote or comment: more lines follow
  }
}

std::string Trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

class Shell {
 public:
  Shell(ShellBackend& backend, SqlOutput out, ShellInterrupts& interrupts)
      : backend_(backend), out_(std::move(out)), interrupts_(interrupts) {}

  int Loop() {
    std::cerr << "tarn " << backend_.Describe() << "\nType \\help for help, \\q to quit.\n";
    LoadNames();
    std::string buffer;
    while (true) {
      interrupts_.Take();
      char* raw = readline(buffer.empty() ? "tarn> " : "  ...> ");
      if (!raw) {
        if (interrupts_.Take()) {  // Ctrl-C: drop the line, keep the shell
          std::cout << "^C" << std::endl;
          buffer.clear();
          continue;
        }
        std::cout << std::endl;  // Ctrl-D
        return 0;
      }
      std::string line = raw;
      std::free(raw);
      if (interrupts_.Take()) {  // Ctrl-C while typing: drop what was typed
        std::cout << "^C" << std::endl;
        buffer.clear();
        continue;
      }
      if (buffer.empty() && Trim(line).starts_with("\\")) {
        add_history(line.c_str());
        if (!Command(Trim(line))) return 0;
        continue;
      }
      if (Trim(line).empty() && buffer.empty()) continue;
      buffer += (buffer.empty() ? "" : "\n") + line;
      if (!IsWhole(buffer)) continue;
      add_history(buffer.c_str());
      Execute(buffer);
      buffer.clear();
    }
  }

 private:
  // A backslash command; false to leave.
  bool Command(const std::string& cmd) {
    auto space = cmd.find(' ');
    std::string name = cmd.substr(0, space), arg = space == std::string::npos ? "" : Trim(cmd.substr(space));
    if (name == "\\q" || name == "\\quit") return false;
    if (name == "\\help" || name == "\\?" || name == "\\h") {
      std::cout << kHelp;
    } else if (name == "\\timing") {
      timing_ = !timing_;
      std::cout << "timing " << (timing_ ? "on" : "off") << "\n";
    } else if (name == "\\x") {
      out_.expanded = !out_.expanded;
      std::cout << "expanded rows " << (out_.expanded ? "on" : "off") << "\n";
    } else if (name == "\\format") {
      if (arg != "table" && arg != "csv" && arg != "json") {
        std::cout << "usage: \\format table|csv|json (now " << out_.format << ")\n";
      } else {
        out_.format = arg;
        std::cout << "format " << arg << "\n";
      }
    } else {
      std::cout << "unknown command " << name << ": \\help lists them\n";
    }
    return true;
  }

  // Runs one or more statements on a thread of their own, so that Ctrl-C reaches us.
  void Execute(const std::string& sql) {
    std::optional<Error> failed;
    bool done = false;
    std::mutex mu;
    auto start = std::chrono::steady_clock::now();
    std::thread worker = interrupts_.Start([&] {
      try {
        backend_.Run(sql, out_);
      } catch (const Error& e) {
        failed = e;
      } catch (const std::exception& e) {
        failed = Error::Internal("{}", e.what());
      }
      std::lock_guard<std::mutex> lock(mu);
      done = true;
    });
    // Once Ctrl-C came, the cancel is repeated until the statement ends: one that
    // had not started yet (or not reached the server) when it came is caught too.
    bool cancelled = false;
    auto last_cancel = std::chrono::steady_clock::now();
    while (true) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (done) break;
      }
      bool interrupted = interrupts_.WaitInterrupted(std::chrono::milliseconds(50));
      auto now = std::chrono::steady_clock::now();
      if (interrupted && !cancelled) {
        cancelled = true;
        std::cerr << "\ncancelling...\n";
        backend_.Cancel();
        last_cancel = now;
      } else if (cancelled && now - last_cancel > std::chrono::milliseconds(250)) {
        backend_.Cancel();
        last_cancel = now;
      }
    }
    worker.join();
    std::cout.flush();
    if (failed) {
      std::string msg = failed->what();
      std::cerr << "error: " << msg.substr(0, msg.find('\n')) << "\n";
    }
    if (timing_) {
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      std::cerr << "Time: " << ms << " ms\n";
    }
    // What a statement created or dropped shows up in completion.
    auto first = Trim(sql).substr(0, 6);
    std::transform(first.begin(), first.end(), first.begin(), ::toupper);
    if (first == "CREATE" || first.starts_with("DROP") || first == "GRANT " || first == "REVOKE") LoadNames();
  }

  void LoadNames() {
    try {
      names_ = backend_.Names();
    } catch (const Error&) {
      names_.clear();
    }
  }

  ShellBackend& backend_;
  SqlOutput out_;
  ShellInterrupts& interrupts_;
  bool timing_ = false;
  std::vector<std::string> names_;

 public:
  std::vector<std::string>& names() { return names_; }
};

}  // namespace

int RunShell(ShellBackend& backend, SqlOutput out, ShellInterrupts& interrupts) {
  fs::path history = HistoryFile();
  std::error_code ec;
  fs::create_directories(history.parent_path(), ec);
  ::chmod(history.parent_path().c_str(), 0700);
  // Before the first history call: that one initialises libedit, which copies these.
  rl_attempted_completion_function = Complete;
  g_interrupt_fd = interrupts.fd();
  rl_getc_function = ReadKey;
  // Names complete whole, database.table included: '.' does not break a word.
  static char kBreaks[] = " \t\n\"\\'`@$><=;|&{(,)";
  rl_basic_word_break_characters = kBreaks;
  rl_completer_word_break_characters = kBreaks;
  using_history();
  stifle_history(2000);
  read_history(history.c_str());
  Shell shell(backend, std::move(out), interrupts);
  g_names = &shell.names();
  int rc = shell.Loop();
  g_names = nullptr;
  g_interrupt_fd = -1;
  // Owner-only: statements may hold what others should not read.
  int fd = ::open(history.c_str(), O_WRONLY | O_CREAT, 0600);
  if (fd >= 0) ::close(fd);
  ::chmod(history.c_str(), 0600);
  write_history(history.c_str());
  return rc;
}

}  // namespace tarn::cli
