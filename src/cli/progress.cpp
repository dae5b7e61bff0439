#include "cli/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace tarn::cli {

Progress::Progress(std::string title, uint64_t total)
    : title_(std::move(title)),
      total_(std::max<uint64_t>(total, 1)),
      tty_(isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()) {}

Progress::~Progress() {
  if (tty_ && !finished_ && done_ > 0) std::fputs("\n", stderr);
}

void Progress::Update(uint64_t done, const std::string& step) {
  done_ = std::min(done, total_);
  step_ = step;
  Draw(false);
}

void Progress::Finish() {
  done_ = total_;
  step_ = "done";
  Draw(true);
  if (tty_) std::fputs("\n", stderr);
  finished_ = true;
}

void Progress::Draw(bool force) {
  if (!tty_) return;
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  constexpr int kWidth = 30;
  int filled = static_cast<int>(kWidth * done_ / total_);
  double secs = std::chrono::duration<double>(now - start_).count();
  std::fprintf(stderr, "\r\033[K%s [%s%s] %3d%% %5.1fs %s", title_.c_str(), std::string(filled, '#').c_str(),
               std::string(kWidth - filled, ' ').c_str(), static_cast<int>(100 * done_ / total_), secs,
               step_.c_str());
  std::fflush(stderr);
}

}  // namespace tarn::cli
