#include "common/util.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "common/error.h"

#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string_view>

namespace tarn {

std::string NowUtc() {
  return FormatUtc(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()));
}

std::string FormatUtc(int64_t epoch_seconds) {
  auto t = static_cast<std::time_t>(epoch_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int64_t EpochSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t EpochMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ReadTextFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw Error::Io("cannot read {}", path.string());
  // One read into a string of the file's size (files of the shuffle are tens of MB).
  auto size = in.tellg();
  std::string out(size > 0 ? static_cast<size_t>(size) : 0, '\0');
  in.seekg(0);
  if (size > 0 && !in.read(out.data(), size)) throw Error::Io("cannot read {}", path.string());
  if (size <= 0) {  // a file that does not say its size (/proc): read it as it comes
    in.clear();
    std::stringstream ss;
    ss << in.rdbuf();
    out = ss.str();
  }
  return out;
}

void WriteFileAtomic(const std::filesystem::path& path, const std::string& text, unsigned mode) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) throw Error::Io("cannot write {}", tmp.string());
  ::fchmod(fd, static_cast<mode_t>(mode));  // O_CREAT's mode does not apply to an existing file
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  std::error_code ec;
  if (ok) std::filesystem::rename(tmp, path, ec);
  if (!ok || ec) {
    std::filesystem::remove(tmp, ec);
    throw Error::Io("cannot write {}", path.string());
  }
}

std::string RandomBytes(size_t n) {
  // The kernel's CSPRNG, one system call (std::random_device opened a device per call).
  std::string raw(n, '\0');
  for (size_t got = 0; got < n;) {
    ssize_t r = getrandom(raw.data() + got, n - got, 0);
    if (r < 0 && errno != EINTR) throw Error::Internal("getrandom failed: {}", std::strerror(errno));
    if (r > 0) got += static_cast<size_t>(r);
  }
  return raw;
}

void MoveFile(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::error_code ec;
  std::filesystem::rename(from, to, ec);
  if (!ec) return;
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) throw Error::Io("cannot write {}: {}", to.string(), ec.message());
  std::filesystem::remove(from, ec);
}

TempFolder::TempFolder(const std::string& prefix, const std::string& what) {
  std::error_code ec;
  path_ = std::filesystem::temp_directory_path(ec) / (prefix + RandomHex(8));
  if (!ec) std::filesystem::create_directory(path_, ec);
  if (!ec) std::filesystem::permissions(path_, std::filesystem::perms::owner_all, ec);
  if (ec)
    throw Error::Io("cannot make {} {} in the temp directory ($TMPDIR, else /tmp): {}", what, path_.string(),
                    ec.message());
}

TempFolder::~TempFolder() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string RandomHex(size_t bytes) {
  std::string raw = RandomBytes(bytes);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char b : raw) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

void CrashPoint(const char* point) {
  const char* at = std::getenv("TARN_TEST_CRASH_AT");
  if (at && std::string_view(at) == point) std::raise(SIGKILL);
}

std::string FormatDuration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms < 1000) return std::to_string(ms) + " ms";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ms) / 1000.0);
  return buf;
}

std::string UrlEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string UrlDecode(std::string_view s, bool form) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); i++) {
    char c = s[i];
    if (c == '+' && form) {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
        throw Error::InvalidArgument("bad percent-encoding in the request");
      }
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string AsciiLower(std::string s) {
  for (auto& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

}  // namespace tarn
