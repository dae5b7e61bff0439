// Signals for the tarn command: Ctrl-C cancels what runs instead of killing the
// process.
//
// InterruptGuard: while alive, SIGINT or SIGTERM call a function from a helper
// thread; a second signal exits at once. Create it before any other thread (the
// engine's), so that every thread inherits the blocked mask.
//
// ShellInterrupts: for the interactive shell, SIGINT is delivered to the main
// thread only (every thread started while it is alive blocks it), where it
// interrupts the line editor or a wait; Take() says whether one came.
//
// Thread-safety: one of each per process, made and destroyed on the main thread.
#pragma once

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <thread>

namespace tarn::cli {

// While alive, Ctrl-C (SIGINT) or SIGTERM calls `on_signal` from a helper thread
// instead of killing the process; a second signal exits at once.
class InterruptGuard {
 public:
  explicit InterruptGuard(std::function<void()> on_signal,
                          const char* message = "\ncancelling... (press Ctrl-C again to quit at once)\n")
      : on_signal_(std::move(on_signal)) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, &old_);
    thread_ = std::thread([this, set, message] {
      int count = 0;
      while (true) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) continue;
        if (sig == SIGUSR1 && stopping_) return;
        if (sig == SIGUSR1) continue;
        if (++count > 1) _exit(130);
        std::fputs(message, stderr);
        on_signal_();
      }
    });
  }
  ~InterruptGuard() {
    stopping_ = true;
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  std::function<void()> on_signal_;
  std::atomic<bool> stopping_{false};
  sigset_t old_;
  std::thread thread_;
};

// See the top of this file.
class ShellInterrupts {
 public:
  ShellInterrupts();
  ~ShellInterrupts();
  ShellInterrupts(const ShellInterrupts&) = delete;
  ShellInterrupts& operator=(const ShellInterrupts&) = delete;

  // Starts `fn` on a thread that never receives SIGINT.
  std::thread Start(std::function<void()> fn);
  // Waits up to `timeout` for a SIGINT; true if one came (now or before, not yet taken).
  bool WaitInterrupted(std::chrono::milliseconds timeout);
  // True if a SIGINT came since the last Take (and forgets it).
  bool Take();
  // Readable once a SIGINT came (until Take); for poll().
  int fd() const;

 private:
  struct sigaction old_action_ {};
  sigset_t old_mask_;
};

}  // namespace tarn::cli
