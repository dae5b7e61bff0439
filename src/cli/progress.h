// Progress: a one-line progress bar on stderr for long CLI work.
//
// Draws only when stderr is a terminal (so logs and pipes stay clean) and at most
// ten times a second. Thread-safety: one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace tarn::cli {

class Progress {
 public:
  // `total` units of work (rows, files, steps).
  Progress(std::string title, uint64_t total);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Records that `done` units are finished and names the current step.
  void Update(uint64_t done, const std::string& step);
  // Completes the bar and ends its line.
  void Finish();

 private:
  void Draw(bool force);
  std::string title_;
  std::string step_;
  uint64_t total_;
  uint64_t done_ = 0;
  bool tty_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace tarn::cli
