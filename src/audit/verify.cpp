// Verify: recomputes the hash chain of an audit directory and names its first broken
// link.

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include <fmt/format.h>

#include "audit/audit_log.h"
#include "audit/segment_files.h"
#include "common/error.h"

namespace fs = std::filesystem;

namespace tarn::audit {

using internal::SegmentEntry;

namespace {

constexpr size_t kReadChunk = 1 << 20;

// Walks the chain line by line, carrying the seq and hash of the last good event.
class ChainChecker {
 public:
  explicit ChainChecker(VerifyResult& result) : result_(result) {}

  // Checks line `line_no` (1-based) of `segment`; false (with result_.problem set) if
  // it breaks the chain.
  bool Check(std::string_view line, const SegmentEntry& segment, int64_t line_no) {
    const int64_t expected = result_.events + 1;
    const std::string file = segment.path.filename().string();
    auto event = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!event.is_object())
      return Fail(fmt::format("{} line {}: not a JSON object (expected event {})", file, line_no, expected));
    auto seq_field = event.find("seq");
    if (seq_field == event.end() || !seq_field->is_number_integer())
      return Fail(fmt::format("{} line {}: no integer \"seq\" (expected event {})", file, line_no, expected));
    const int64_t seq = seq_field->get<int64_t>();
    const std::string where = fmt::format("{} line {} (event {})", file, line_no, seq);
    if (seq != expected) {
      return Fail(expected == 1
                      ? fmt::format("{}: expected seq 1 for the first event", where)
                      : fmt::format("{}: expected seq {} after event {}", where, expected, expected - 1));
    }
    if (line_no == 1 && seq != segment.first_seq)
      return Fail(fmt::format("{}: the segment's name says its first event is {}", where, segment.first_seq));
    auto prev_field = event.find("prev");
    if (prev_field == event.end() || !prev_field->is_string())
      return Fail(fmt::format("{}: no string \"prev\"", where));
    if (prev_field->get_ref<const std::string&>() != prev_hash_) {
      return Fail(seq == 1 ? fmt::format("{}: prev of the first event is not 64 zeros", where)
                           : fmt::format("{}: prev does not match the SHA-256 of event {}", where, seq - 1));
    }
    prev_hash_ = Sha256Hex(line);
    result_.events++;
    return true;
  }

  bool Fail(std::string problem) {
    result_.ok = false;
    result_.problem = std::move(problem);
    return false;
  }

 private:
  VerifyResult& result_;
  std::string prev_hash_{internal::kGenesisPrev};
};

// Checks the first `size` bytes of `segment`; false once a problem is found.
bool CheckSegment(ChainChecker& checker, const SegmentEntry& segment, uint64_t size, int64_t& lines) {
  internal::UniqueFd fd(::open(segment.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    int err = errno;
    throw Error::Io("cannot read audit segment {}: {}", segment.path.string(), internal::ErrnoText(err));
  }
  std::string chunk;
  std::string partial;  // the start of a line that continues in the next chunk
  for (uint64_t offset = 0; offset < size;) {
    chunk.resize(static_cast<size_t>(std::min<uint64_t>(kReadChunk, size - offset)));
    internal::ReadAt(fd.get(), offset, chunk.size(), chunk.data(), segment.path);
    offset += chunk.size();
    size_t begin = 0;
    for (size_t end; (end = chunk.find('\n', begin)) != std::string::npos; begin = end + 1) {
      std::string_view piece(chunk.data() + begin, end - begin);
      ++lines;
      bool good;
      if (partial.empty()) {
        good = checker.Check(piece, segment, lines);
      } else {
        partial.append(piece);
        good = checker.Check(partial, segment, lines);
        partial.clear();
      }
      if (!good) return false;
    }
    partial.append(chunk, begin);
  }
  if (!partial.empty()) {
    return checker.Fail(
        fmt::format("{} line {}: no trailing newline (a torn write; opening the log truncates it)",
                    segment.path.filename().string(), lines + 1));
  }
  return true;
}

}  // namespace

VerifyResult Verify(const fs::path& dir) {
  VerifyResult result;
  std::error_code ec;
  auto status = fs::status(dir, ec);
  if (status.type() == fs::file_type::not_found) return result;  // nothing was ever audited here
  if (ec) throw Error::Io("cannot read the audit directory {}: {}", dir.string(), ec.message());
  if (!fs::is_directory(status))
    throw Error::InvalidArgument("{} is not an audit directory: it is not a directory", dir.string());

  // Which segments exist and how long the last one is, taken under a shared lock so
  // that no writer is half-way through a batch. Later appends are not looked at.
  std::vector<SegmentEntry> segments;
  uint64_t last_size = 0;
  {
    fs::path lock_path = dir / internal::kLockFileName;
    internal::UniqueFd lock_fd(::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC));
    std::optional<internal::FileLock> lock;
    if (lock_fd) lock.emplace(lock_fd.get(), LOCK_SH, lock_path);
    segments = internal::ListSegments(dir);
    if (!segments.empty()) {
      struct stat st {};
      if (::stat(segments.back().path.c_str(), &st) != 0) {
        int err = errno;
        throw Error::Io("cannot read audit segment {}: {}", segments.back().path.string(),
                        internal::ErrnoText(err));
      }
      last_size = static_cast<uint64_t>(st.st_size);
    }
  }

  ChainChecker checker(result);
  for (size_t k = 0; k < segments.size(); ++k) {
    const SegmentEntry& segment = segments[k];
    const bool is_last = k + 1 == segments.size();
    uint64_t size = last_size;
    if (!is_last) {
      std::error_code size_ec;
      size = fs::file_size(segment.path, size_ec);
      if (size_ec)
        throw Error::Io("cannot read audit segment {}: {}", segment.path.string(), size_ec.message());
    }
    result.segments++;
    int64_t lines = 0;
    if (!CheckSegment(checker, segment, size, lines)) return result;
    // An empty segment is only fine as the newest one, named for the next event (its
    // writer stopped between creating it and writing to it).
    if (lines == 0 && !(is_last && segment.first_seq == result.events + 1)) {
      checker.Fail(fmt::format("{}: the segment is empty (expected it to start with event {})",
                               segment.path.filename().string(), result.events + 1));
      return result;
    }
  }
  return result;
}

}  // namespace tarn::audit
