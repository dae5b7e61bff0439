#include "audit/segment_files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "common/error.h"

namespace fs = std::filesystem;

namespace tarn::audit::internal {

namespace {

constexpr std::string_view kSegmentPrefix = "audit-";
constexpr std::string_view kSegmentSuffix = ".jsonl";
constexpr size_t kTailChunk = 64 * 1024;

}  // namespace

void UniqueFd::Reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

FileLock::FileLock(int fd, int op, const fs::path& path) : fd_(fd) {
  while (::flock(fd_, op) != 0) {
    if (errno == EINTR) continue;
    throw Error::Io("cannot lock {}: {}", path.string(), ErrnoText(errno));
  }
}

FileLock::~FileLock() {
  ::flock(fd_, LOCK_UN);
}

std::string ErrnoText(int err) {
  char buf[256];
  // GNU strerror_r returns the message (which may or may not be `buf`).
  return ::strerror_r(err, buf, sizeof buf);
}

std::string SegmentName(int64_t first_seq) {
  return fmt::format("{}{:012}{}", kSegmentPrefix, first_seq, kSegmentSuffix);
}

std::optional<int64_t> ParseSegmentName(std::string_view name) {
  if (!name.starts_with(kSegmentPrefix) || !name.ends_with(kSegmentSuffix)) return std::nullopt;
  std::string_view digits = name.substr(kSegmentPrefix.size());
  digits.remove_suffix(kSegmentSuffix.size());
  if (digits.size() < 12 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  int64_t seq = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
  if (ec != std::errc() || end != digits.data() + digits.size() || seq < 1) return std::nullopt;
  if (SegmentName(seq) != name) return std::nullopt;  // only the canonical spelling
  return seq;
}

std::vector<SegmentEntry> ListSegments(const fs::path& dir) {
  std::vector<SegmentEntry> out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    auto seq = ParseSegmentName(it->path().filename().string());
    if (seq) out.push_back({*seq, it->path()});
  }
  if (ec) throw Error::Io("cannot list the audit directory {}: {}", dir.string(), ec.message());
  std::sort(out.begin(), out.end(),
            [](const SegmentEntry& a, const SegmentEntry& b) { return a.first_seq < b.first_seq; });
  return out;
}

void SyncDirectory(const fs::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd || ::fsync(fd.get()) != 0)
    throw Error::Io("cannot sync the audit directory {}: {}", dir.string(), ErrnoText(errno));
}

void ReadAt(int fd, uint64_t offset, size_t size, char* out, const fs::path& path) {
  while (size > 0) {
    ssize_t n = ::pread(fd, out, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error::Io("cannot read {}: {}", path.string(), ErrnoText(errno));
    if (n == 0) throw Error::Io("cannot read {}: it is shorter than expected", path.string());
    out += n;
    offset += static_cast<uint64_t>(n);
    size -= static_cast<size_t>(n);
  }
}

uint64_t EndOfLastLine(int fd, uint64_t size, const fs::path& path) {
  std::string chunk;
  uint64_t end = size;
  while (end > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(end, kTailChunk));
    chunk.resize(n);
    ReadAt(fd, end - n, n, chunk.data(), path);
    auto pos = chunk.rfind('\n');
    if (pos != std::string::npos) return end - n + pos + 1;
    end -= n;
  }
  return 0;
}

std::string ReadLastLine(int fd, uint64_t size, const fs::path& path) {
  uint64_t begin = EndOfLastLine(fd, size - 1, path);  // the line's own '\n' is at size - 1
  std::string line(static_cast<size_t>(size - 1 - begin), '\0');
  ReadAt(fd, begin, line.size(), line.data(), path);
  return line;
}

std::string NowUtcMillis() {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", buf, ms % 1000);
}

}  // namespace tarn::audit::internal
