#include "audit/chain_writer.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <vector>

#include "audit/audit_log.h"
#include "common/error.h"

namespace fs = std::filesystem;

namespace tarn::audit::internal {

namespace {

// Creates `dir` with mode 0700 (its parents with the default mode) if it is missing.
void CreateAuditDirectory(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return;
  fs::path leaf = dir.has_filename() ? dir : dir.parent_path();  // "a/b/" names "a/b"
  if (leaf.has_parent_path()) fs::create_directories(leaf.parent_path(), ec);
  if (ec) throw Error::Io("cannot create the audit directory {}: {}", dir.string(), ec.message());
  if (::mkdir(leaf.c_str(), 0700) != 0 && errno != EEXIST) {
    int err = errno;
    throw Error::Io("cannot create the audit directory {}: {}", dir.string(), ErrnoText(err));
  }
  if (!fs::is_directory(dir, ec))
    throw Error::Io("cannot use {} as the audit directory: it is not a directory", dir.string());
}

UniqueFd OpenSegment(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC));
  if (!fd) {
    int err = errno;
    throw Error::Io("cannot open audit segment {}: {}", path.string(), ErrnoText(err));
  }
  return fd;
}

struct stat StatFd(int fd, const fs::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    throw Error::Io("cannot stat audit segment {}: {}", path.string(), ErrnoText(err));
  }
  return st;
}

}  // namespace

ChainWriter::ChainWriter(fs::path dir, uint64_t segment_bytes)
    : dir_(std::move(dir)), segment_bytes_(segment_bytes), last_hash_(kGenesisPrev) {
  CreateAuditDirectory(dir_);
  fs::path lock_path = dir_ / kLockFileName;
  lock_fd_.Reset(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock_fd_) {
    int err = errno;
    throw Error::Io("cannot open the audit lock file {}: {}", lock_path.string(), ErrnoText(err));
  }
  FileLock lock(lock_fd_.get(), LOCK_EX, lock_path);
  Rescan();
}

void ChainWriter::LockDirectory(std::optional<FileLock>& lock) {
  const fs::path lock_path = dir_ / kLockFileName;
  for (;;) {
    if (!lock_fd_) {
      lock_fd_.Reset(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
      if (!lock_fd_) {
        int err = errno;
        throw Error::Io("cannot open the audit lock file {}: {}", lock_path.string(), ErrnoText(err));
      }
      stale_ = true;  // whatever we knew was about another directory
    }
    lock.emplace(lock_fd_.get(), LOCK_EX, lock_path);
    struct stat held {};
    struct stat named {};
    if (::fstat(lock_fd_.get(), &held) == 0 && ::stat(lock_path.c_str(), &named) == 0 &&
        held.st_ino == named.st_ino && held.st_dev == named.st_dev)
      return;
    // The lock file was removed or replaced (the directory was made again): the other
    // writers lock the one there now, so lock that one instead.
    lock.reset();
    lock_fd_.Reset();
  }
}

bool ChainWriter::DiskChanged() const {
  struct stat st {};
  if (segment_fd_) {
    if (::stat(segment_path_.c_str(), &st) != 0 || st.st_ino != segment_inode_ ||
        static_cast<uint64_t>(st.st_size) != segment_size_)
      return true;
  }
  // Another writer that rolled over to a new segment named it for our next seq.
  fs::path next = dir_ / SegmentName(last_seq_ + 1);
  if (next == segment_path_) return false;
  return ::stat(next.c_str(), &st) == 0 || errno != ENOENT;
}

void ChainWriter::Rescan() {
  segment_fd_.Reset();
  segment_path_.clear();
  segment_inode_ = 0;
  segment_size_ = 0;
  last_seq_ = 0;
  last_hash_ = kGenesisPrev;

  std::vector<SegmentEntry> segments = ListSegments(dir_);

  // Walk back from the newest segment to the one holding the last complete line.
  std::optional<size_t> last;  // index of that segment
  UniqueFd last_fd;
  uint64_t last_size = 0;
  for (size_t k = segments.size(); k-- > 0;) {
    const fs::path& path = segments[k].path;
    UniqueFd fd = OpenSegment(path);
    auto size = static_cast<uint64_t>(StatFd(fd.get(), path).st_size);
    if (size > 0) {
      char tail = 0;
      ReadAt(fd.get(), size - 1, 1, &tail, path);
      if (tail != '\n') {
        // A torn write: the writer died before finishing (and so before acknowledging) it.
        uint64_t end = EndOfLastLine(fd.get(), size, path);
        if (::ftruncate(fd.get(), static_cast<off_t>(end)) != 0 || ::fdatasync(fd.get()) != 0) {
          int err = errno;
          throw Error::Io("cannot truncate the torn last line of audit segment {}: {}", path.string(),
                          ErrnoText(err));
        }
        size = end;
      }
    }
    if (size > 0) {
      last = k;
      last_fd = std::move(fd);
      last_size = size;
      break;
    }
  }

  if (last) {
    const SegmentEntry& segment = segments[*last];
    std::string line = ReadLastLine(last_fd.get(), last_size, segment.path);
    auto event = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    auto seq = event.is_object() ? event.find("seq") : event.end();
    if (!event.is_object() || seq == event.end() || !seq->is_number_integer() ||
        seq->get<int64_t>() < segment.first_seq)
      throw Error::Internal(
          "the audit trail in {} ends with a line that is not a valid audit event (in {}); "
          "run audit::Verify on it to find where the chain breaks",
          dir_.string(), segment.path.filename().string());
    last_seq_ = seq->get<int64_t>();
    last_hash_ = Sha256Hex(line);
  }

  // Segments after the last line are empty: a writer died between creating one and
  // writing to it. Keep the one named for the next event as the current segment;
  // remove any other (it holds nothing).
  std::optional<size_t> adopted;
  bool removed = false;
  for (size_t k = last ? *last + 1 : 0; k < segments.size(); ++k) {
    if (segments[k].first_seq == last_seq_ + 1) {
      adopted = k;
      continue;
    }
    std::error_code ec;
    fs::remove(segments[k].path, ec);
    if (ec)
      throw Error::Io("cannot remove the empty audit segment {}: {}", segments[k].path.string(),
                      ec.message());
    removed = true;
  }
  if (removed) SyncDirectory(dir_);

  if (adopted) {
    last_fd = OpenSegment(segments[*adopted].path);
    last_size = 0;
    last = adopted;
  }
  if (last) {
    segment_path_ = segments[*last].path;
    segment_inode_ = StatFd(last_fd.get(), segment_path_).st_ino;
    segment_size_ = last_size;
    segment_fd_ = std::move(last_fd);
  }
}

void ChainWriter::StartSegment(int64_t first_seq) {
  fs::path path = dir_ / SegmentName(first_seq);
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) {
    int err = errno;
    throw Error::Io("cannot create audit segment {}: {}", path.string(), ErrnoText(err));
  }
  struct stat st = StatFd(fd.get(), path);
  if (st.st_size != 0)
    throw Error::Internal("audit segment {} already exists and is not empty", path.string());
  SyncDirectory(dir_);
  segment_fd_ = std::move(fd);
  segment_path_ = std::move(path);
  segment_inode_ = st.st_ino;
  segment_size_ = 0;
}

void ChainWriter::WriteAndSync(const std::string& bytes) {
  auto fail = [&](const char* what, int err) {
    // Take back whatever part of the batch reached the file: none of it is acknowledged.
    int rc = ::ftruncate(segment_fd_.get(), static_cast<off_t>(segment_size_));
    (void)rc;
    stale_ = true;
    return Error::Io("cannot {} audit segment {}: {}", what, segment_path_.string(), ErrnoText(err));
  };
  const char* data = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(segment_fd_.get(), data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw fail("write", errno);
    data += n;
    left -= static_cast<size_t>(n);
  }
  if (::fdatasync(segment_fd_.get()) != 0) throw fail("sync", errno);
}

void ChainWriter::WriteBatch(std::span<PendingEvent* const> batch) noexcept {
  std::exception_ptr failure;
  try {
    std::optional<FileLock> lock;
    LockDirectory(lock);
    if (stale_ || DiskChanged()) {
      Rescan();
      stale_ = false;
    }
    std::string bytes;
    size_t i = 0;
    while (i < batch.size()) {
      // One run: the events that go into the current segment, written with one write().
      if (!segment_fd_ || segment_size_ > segment_bytes_) StartSegment(last_seq_ + 1);
      bytes.clear();
      int64_t seq = last_seq_;
      std::string prev = last_hash_;
      size_t begin = i;
      for (; i < batch.size() && (bytes.empty() || segment_size_ + bytes.size() <= segment_bytes_); ++i) {
        PendingEvent& pending = *batch[i];
        try {
          pending.event["seq"] = seq + 1;
          pending.event["prev"] = prev;
          // Invalid UTF-8 in a string becomes U+FFFD rather than losing the event.
          std::string line = pending.event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
          prev = Sha256Hex(line);
          bytes += line;
          bytes += '\n';
          ++seq;
        } catch (const std::exception& e) {
          pending.error =
              std::make_exception_ptr(Error::Internal("cannot serialize an audit event: {}", e.what()));
        }
      }
      if (bytes.empty()) continue;
      WriteAndSync(bytes);
      segment_size_ += bytes.size();
      last_seq_ = seq;
      last_hash_ = std::move(prev);
      for (size_t k = begin; k < i; ++k)
        if (!batch[k]->error) batch[k]->written = true;
    }
  } catch (const Error&) {
    failure = std::current_exception();
  } catch (const std::exception& e) {
    failure = std::make_exception_ptr(Error::Internal("the audit writer failed: {}", e.what()));
  } catch (...) {
    failure = std::make_exception_ptr(Error::Internal("the audit writer failed"));
  }
  if (failure) {
    stale_ = true;
    for (PendingEvent* pending : batch)
      if (!pending->written && !pending->error) pending->error = failure;
  }
}

}  // namespace tarn::audit::internal
