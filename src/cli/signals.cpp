#include "cli/signals.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cstring>

#include "common/error.h"

namespace tarn::cli {

namespace {

// The write end of the self-pipe the SIGINT handler writes to. A signal handler
// can reach nothing else: this is the one piece of process-wide state, set and
// cleared by the one ShellInterrupts.
std::atomic<int> g_interrupt_fd{-1};
int g_read_fd = -1;

void OnInterrupt(int) {
  int saved = errno;
  int fd = g_interrupt_fd.load();
  char b = 1;
  if (fd >= 0) (void)!write(fd, &b, 1);
  errno = saved;
}

}  // namespace

ShellInterrupts::ShellInterrupts() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) throw Error::Io("cannot create a pipe for Ctrl-C");
  g_read_fd = fds[0];
  g_interrupt_fd = fds[1];
  struct sigaction sa {};
  sa.sa_handler = OnInterrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: the line editor's read returns, and so does poll
  sigaction(SIGINT, &sa, &old_action_);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_UNBLOCK, &set, &old_mask_);
}

ShellInterrupts::~ShellInterrupts() {
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  sigaction(SIGINT, &old_action_, nullptr);
  int fd = g_interrupt_fd.exchange(-1);
  close(fd);
  close(g_read_fd);
  g_read_fd = -1;
}

std::thread ShellInterrupts::Start(std::function<void()> fn) {
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, &old);
  std::thread t(std::move(fn));
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return t;
}

bool ShellInterrupts::WaitInterrupted(std::chrono::milliseconds timeout) {
  pollfd p{g_read_fd, POLLIN, 0};
  ::poll(&p, 1, static_cast<int>(timeout.count()));
  return Take();
}

int ShellInterrupts::fd() const {
  return g_read_fd;
}

bool ShellInterrupts::Take() {
  char buf[64];
  bool any = false;
  while (read(g_read_fd, buf, sizeof buf) > 0) any = true;
  return any;
}

}  // namespace tarn::cli
