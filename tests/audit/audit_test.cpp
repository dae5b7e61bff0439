#include "audit/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "common/error.h"
#include "test_util.h"

namespace tarn::audit {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using tarn::testing::CatchError;
using tarn::testing::TempDir;
using ::testing::HasSubstr;

const std::string kZeros(64, '0');

// --- helpers -----------------------------------------------------------------

std::string ReadBytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteBytes(const fs::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// The lines of a segment, without their newlines (the file must end with one).
std::vector<std::string> ReadLines(const fs::path& file) {
  std::string bytes = ReadBytes(file);
  EXPECT_TRUE(bytes.empty() || bytes.back() == '\n') << file;
  std::vector<std::string> lines;
  size_t begin = 0;
  for (size_t end; (end = bytes.find('\n', begin)) != std::string::npos; begin = end + 1)
    lines.push_back(bytes.substr(begin, end - begin));
  return lines;
}

void WriteLines(const fs::path& file, const std::vector<std::string>& lines) {
  std::string bytes;
  for (const auto& line : lines) bytes += line + "\n";
  WriteBytes(file, bytes);
}

// Where the event with `seq` is: its segment and its 1-based line number there.
struct Location {
  fs::path segment;
  size_t line = 0;   // 1-based
  size_t lines = 0;  // how many lines the segment has
};

Location Find(const AuditLog& log, int64_t seq) {
  for (const auto& segment : log.Segments()) {
    auto lines = ReadLines(segment);
    for (size_t i = 0; i < lines.size(); ++i)
      if (json::parse(lines[i])["seq"] == seq) return {segment, i + 1, lines.size()};
  }
  ADD_FAILURE() << "no event " << seq;
  return {};
}

// Every line of every segment, in order.
std::vector<std::string> AllLines(const AuditLog& log) {
  std::vector<std::string> all;
  for (const auto& segment : log.Segments()) {
    auto lines = ReadLines(segment);
    all.insert(all.end(), lines.begin(), lines.end());
  }
  return all;
}

// Checks the chain independently of Verify: seq 1..n, prev = SHA-256 of the line before.
void ExpectChain(const std::vector<std::string>& lines) {
  std::string prev = kZeros;
  for (size_t i = 0; i < lines.size(); ++i) {
    json event = json::parse(lines[i]);
    EXPECT_EQ(event["seq"], static_cast<int64_t>(i + 1));
    EXPECT_EQ(event["prev"], prev) << "event " << i + 1;
    prev = Sha256Hex(lines[i]);
  }
}

// True for e.g. 2026-11-24T10:11:12.123Z ('d' in the pattern is any digit).
bool LooksLikeUtcMillis(const std::string& time) {
  const std::string pattern = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (time.size() != pattern.size()) return false;
  for (size_t i = 0; i < time.size(); ++i) {
    bool digit = time[i] >= '0' && time[i] <= '9';
    if (pattern[i] == 'd' ? !digit : time[i] != pattern[i]) return false;
  }
  return true;
}

int Mode(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// 40 events of about 190 bytes in segments of 1000 bytes: 6 per segment. Event k has
// "rows": 1000 + k, so one digit of it can be changed without changing its length.
std::unique_ptr<AuditLog> FortyEvents(const fs::path& dir) {
  auto log = std::make_unique<AuditLog>(dir, AuditOptions{.segment_bytes = 1000});
  for (int k = 1; k <= 40; ++k)
    log->Append(
        {{"principal", "alice"}, {"action", "select"}, {"table", "sales.orders"}, {"rows", 1000 + k}});
  return log;
}

// An event in the middle of a segment other than the first: neither its first line
// nor its last.
int64_t MiddleEvent(const AuditLog& log) {
  auto segments = log.Segments();
  EXPECT_GE(segments.size(), 3u);
  auto second = ReadLines(segments[1]);
  EXPECT_GE(second.size(), 3u);
  return json::parse(second[second.size() / 2])["seq"].get<int64_t>();
}

// --- appending ---------------------------------------------------------------

TEST(AuditLogTest, AppendsFormOneValidChainAcrossSegments) {
  TempDir tmp;
  fs::path dir = tmp / "lake/audit";
  AuditLog log(dir, AuditOptions{.segment_bytes = 300});
  for (int i = 0; i < 60; ++i) log.Append({{"action", "select"}, {"rows", i}});

  EXPECT_EQ(Mode(dir), 0700);
  auto segments = log.Segments();
  ASSERT_GE(segments.size(), 5u);
  int64_t next_seq = 1;
  for (size_t s = 0; s < segments.size(); ++s) {
    auto lines = ReadLines(segments[s]);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(segments[s].filename().string(), fmt::format("audit-{:012}.jsonl", next_seq));
    EXPECT_EQ(Mode(segments[s]), 0600);
    // A segment ends with the event that takes it past segment_bytes, not earlier.
    if (s + 1 < segments.size()) {
      EXPECT_GT(fs::file_size(segments[s]), 300u);
      EXPECT_LE(fs::file_size(segments[s]) - lines.back().size() - 1, 300u);
    }
    next_seq += static_cast<int64_t>(lines.size());
  }
  EXPECT_EQ(next_seq, 61);
  ExpectChain(AllLines(log));

  VerifyResult result = Verify(dir);
  EXPECT_TRUE(result.ok) << result.problem;
  EXPECT_EQ(result.events, 60);
  EXPECT_EQ(result.segments, static_cast<int64_t>(segments.size()));
  EXPECT_EQ(result.problem, "");
}

TEST(AuditLogTest, SetsSeqPrevAndTimeAndWritesTheCompactDump) {
  TempDir tmp;
  AuditLog log(tmp.path());
  log.Append({{"seq", 99}, {"prev", "forged"}, {"action", "login"}});
  log.Append({{"time", "2026-01-02T03:04:05.678Z"}, {"action", "logout"}});

  auto lines = AllLines(log);
  ASSERT_EQ(lines.size(), 2u);
  json first = json::parse(lines[0]);
  EXPECT_EQ(first["seq"], 1);
  EXPECT_EQ(first["prev"], kZeros);
  EXPECT_TRUE(LooksLikeUtcMillis(first["time"].get<std::string>())) << first["time"];
  EXPECT_EQ(lines[0], first.dump());  // compact, keys in nlohmann's default order
  json second = json::parse(lines[1]);
  EXPECT_EQ(second["time"], "2026-01-02T03:04:05.678Z");
  EXPECT_EQ(second["seq"], 2);
  EXPECT_EQ(second["prev"], Sha256Hex(lines[0]));
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(AuditLogTest, ReopeningContinuesTheChain) {
  TempDir tmp;
  {
    AuditLog log(tmp.path(), AuditOptions{.segment_bytes = 200});
    for (int i = 0; i < 10; ++i) log.Append({{"run", 1}, {"i", i}});
  }
  {
    AuditLog log(tmp.path(), AuditOptions{.segment_bytes = 200});
    for (int i = 0; i < 10; ++i) log.Append({{"run", 2}, {"i", i}});
    auto lines = AllLines(log);
    ASSERT_EQ(lines.size(), 20u);
    ExpectChain(lines);
    EXPECT_EQ(json::parse(lines[10])["run"], 2);
  }
  VerifyResult result = Verify(tmp.path());
  EXPECT_TRUE(result.ok) << result.problem;
  EXPECT_EQ(result.events, 20);
}

TEST(AuditLogTest, ReopenTruncatesATornLastLine) {
  TempDir tmp;
  fs::path segment;
  std::string last_line;
  uintmax_t good_size = 0;
  {
    AuditLog log(tmp.path());
    for (int i = 0; i < 5; ++i) log.Append({{"i", i}});
    segment = log.Segments().back();
    good_size = fs::file_size(segment);
    last_line = AllLines(log).back();
  }
  // A writer that died half-way through its line (so never acknowledged it).
  std::ofstream(segment, std::ios::binary | std::ios::app) << R"({"i":5,"prev":"12ab)";
  VerifyResult torn = Verify(tmp.path());
  EXPECT_FALSE(torn.ok);
  EXPECT_EQ(
      torn.problem,
      "audit-000000000001.jsonl line 6: no trailing newline (a torn write; opening the log truncates it)");
  EXPECT_EQ(torn.events, 5);

  AuditLog log(tmp.path());
  EXPECT_EQ(fs::file_size(segment), good_size);
  EXPECT_TRUE(Verify(tmp.path()).ok);
  log.Append({{"i", "after"}});
  auto lines = AllLines(log);
  ASSERT_EQ(lines.size(), 6u);
  json sixth = json::parse(lines[5]);
  EXPECT_EQ(sixth["seq"], 6);
  EXPECT_EQ(sixth["prev"], Sha256Hex(last_line));
  EXPECT_TRUE(Verify(tmp.path()).ok);
}

TEST(AuditLogTest, ReopenAdoptsAnEmptySegmentNamedForTheNextEvent) {
  TempDir tmp;
  {
    AuditLog log(tmp.path());
    for (int i = 0; i < 3; ++i) log.Append({{"i", i}});
  }
  // A writer that died after creating the next segment and before writing to it.
  WriteBytes(tmp / "audit-000000000004.jsonl", "");
  EXPECT_TRUE(Verify(tmp.path()).ok) << Verify(tmp.path()).problem;

  AuditLog log(tmp.path());
  log.Append({{"i", 3}});
  EXPECT_EQ(ReadLines(tmp / "audit-000000000004.jsonl").size(), 1u);
  VerifyResult result = Verify(tmp.path());
  EXPECT_TRUE(result.ok) << result.problem;
  EXPECT_EQ(result.events, 4);
  EXPECT_EQ(result.segments, 2);
}

// --- verification ------------------------------------------------------------

TEST(AuditVerifyTest, ChangingOneByteOfAnEventBreaksTheLinkInItsSuccessor) {
  TempDir tmp;
  auto log = FortyEvents(tmp.path());
  int64_t k = MiddleEvent(*log);
  Location at = Find(*log, k);
  auto lines = ReadLines(at.segment);
  std::string& line = lines[at.line - 1];
  std::string rows = fmt::format("\"rows\":{}", 1000 + k);
  auto pos = line.find(rows);
  ASSERT_NE(pos, std::string::npos) << line;
  line[pos + rows.size() - 1] = line[pos + rows.size() - 1] == '9' ? '8' : '9';  // one digit
  WriteLines(at.segment, lines);

  VerifyResult result = Verify(tmp.path());
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.problem, fmt::format("{} line {} (event {}): prev does not match the SHA-256 of event {}",
                                        at.segment.filename().string(), at.line + 1, k + 1, k));
  EXPECT_EQ(result.events, k);
}

TEST(AuditVerifyTest, ALineThatIsNoLongerJsonIsReportedAtThatLine) {
  TempDir tmp;
  auto log = FortyEvents(tmp.path());
  int64_t k = MiddleEvent(*log);
  Location at = Find(*log, k);
  auto lines = ReadLines(at.segment);
  lines[at.line - 1][0] = '[';  // one byte: the object's brace
  WriteLines(at.segment, lines);

  VerifyResult result = Verify(tmp.path());
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.problem, fmt::format("{} line {}: not a JSON object (expected event {})",
                                        at.segment.filename().string(), at.line, k));
  EXPECT_EQ(result.events, k - 1);
}

TEST(AuditVerifyTest, ADeletedLineIsReportedWhereItWas) {
  TempDir tmp;
  auto log = FortyEvents(tmp.path());
  int64_t k = MiddleEvent(*log);
  Location at = Find(*log, k);
  auto lines = ReadLines(at.segment);
  lines.erase(lines.begin() + static_cast<ptrdiff_t>(at.line - 1));
  WriteLines(at.segment, lines);

  VerifyResult result = Verify(tmp.path());
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.problem, fmt::format("{} line {} (event {}): expected seq {} after event {}",
                                        at.segment.filename().string(), at.line, k + 1, k, k - 1));
}

TEST(AuditVerifyTest, ReorderedLinesAreReportedAtTheFirstOutOfPlace) {
  TempDir tmp;
  auto log = FortyEvents(tmp.path());
  int64_t k = MiddleEvent(*log);
  Location at = Find(*log, k);
  ASSERT_LT(at.line, at.lines);
  auto lines = ReadLines(at.segment);
  std::swap(lines[at.line - 1], lines[at.line]);
  WriteLines(at.segment, lines);

  VerifyResult result = Verify(tmp.path());
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.problem, fmt::format("{} line {} (event {}): expected seq {} after event {}",
                                        at.segment.filename().string(), at.line, k + 1, k, k - 1));
}

TEST(AuditVerifyTest, ASegmentWhoseNameIsNotItsFirstEventIsReported) {
  TempDir tmp;
  auto log = FortyEvents(tmp.path());
  auto segments = log->Segments();
  ASSERT_GE(segments.size(), 3u);
  int64_t first = json::parse(ReadLines(segments[1])[0])["seq"].get<int64_t>();
  fs::path renamed = tmp / fmt::format("audit-{:012}.jsonl", first + 1);
  fs::rename(segments[1], renamed);

  VerifyResult result = Verify(tmp.path());
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.problem, fmt::format("{} line 1 (event {}): the segment's name says its first event is {}",
                                        renamed.filename().string(), first, first + 1));
}

TEST(AuditVerifyTest, AMissingDirectoryIsOkWithNoEvents) {
  TempDir tmp;
  VerifyResult result = Verify(tmp / "never-created");
  EXPECT_TRUE(result.ok);
  EXPECT_EQ(result.events, 0);
  EXPECT_EQ(result.segments, 0);
  EXPECT_FALSE(fs::exists(tmp / "never-created"));
}

// --- concurrency -------------------------------------------------------------

TEST(AuditLogTest, TwoInstancesInterleavingAppendsKeepOneChain) {
  TempDir tmp;
  AuditLog a(tmp.path(), AuditOptions{.segment_bytes = 400});
  AuditLog b(tmp.path(), AuditOptions{.segment_bytes = 400});
  // An irregular pattern, so each instance sometimes finds several foreign events
  // and segments, and sometimes none, since its last write.
  const std::string pattern = "abbabaaabbbbabab";
  for (int i = 0; i < 96; ++i) (pattern[i % pattern.size()] == 'a' ? a : b).Append({{"i", i}});

  auto lines = AllLines(a);
  ASSERT_EQ(lines.size(), 96u);
  ExpectChain(lines);
  for (int i = 0; i < 96; ++i) EXPECT_EQ(json::parse(lines[i])["i"], i);  // in the order appended
  VerifyResult result = Verify(tmp.path());
  EXPECT_TRUE(result.ok) << result.problem;
  EXPECT_EQ(result.events, 96);
  EXPECT_GT(result.segments, 5);
}

TEST(AuditLogTest, TwoInstancesAppendingFromManyThreadsKeepOneChain) {
  TempDir tmp;
  AuditLog a(tmp.path(), AuditOptions{.segment_bytes = 2000});
  AuditLog b(tmp.path(), AuditOptions{.segment_bytes = 2000});
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) (t % 2 ? a : b).Append({{"t", t}, {"i", i}});
    });
  }
  for (auto& thread : threads) thread.join();

  std::set<std::pair<int, int>> seen;
  for (const auto& line : AllLines(a)) {
    json event = json::parse(line);
    EXPECT_TRUE(seen.emplace(event["t"].get<int>(), event["i"].get<int>()).second) << line;
  }
  EXPECT_EQ(seen.size(), 400u);
  VerifyResult result = Verify(tmp.path());
  EXPECT_TRUE(result.ok) << result.problem;
  EXPECT_EQ(result.events, 400);
}

TEST(AuditLogTest, ProcessesAppendingToOneDirectoryKeepOneChain) {
  TempDir tmp;
  constexpr int kProcesses = 3, kEvents = 100;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int code = 0;
      try {
        AuditLog log(tmp.path(), AuditOptions{.segment_bytes = 3000});
        for (int i = 0; i < kEvents; ++i) log.Append({{"process", p}, {"i", i}});
      } catch (...) {
        code = 1;
      }
      ::_exit(code);  // no gtest teardown, no TempDir removal in the child
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }

  AuditLog log(tmp.path());
  std::map<int, std::set<int>> seen;
  for (const auto& line : AllLines(log)) {
    json event = json::parse(line);
    EXPECT_TRUE(seen[event["process"].get<int>()].insert(event["i"].get<int>()).second) << line;
  }
  for (int p = 0; p < kProcesses; ++p) EXPECT_EQ(seen[p].size(), static_cast<size_t>(kEvents)) << p;
  VerifyResult result = Verify(tmp.path());
  EXPECT_TRUE(result.ok) << result.problem;
  EXPECT_EQ(result.events, kProcesses * kEvents);
}

TEST(AuditLogTest, FiftyThreadsShareSyncs) {
  TempDir tmp;
  constexpr int kThreads = 50, kEvents = 200;
  AuditLog log(tmp.path(), AuditOptions{.segment_bytes = 256 * 1024});
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEvents; ++i) {
        try {
          log.Append({{"principal", fmt::format("user{}", t)}, {"action", "select"}, {"t", t}, {"i", i}});
        } catch (...) {
          failures++;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(failures.load(), 0);

  std::set<std::pair<int, int>> seen;
  for (const auto& line : AllLines(log)) {
    json event = json::parse(line);
    EXPECT_TRUE(seen.emplace(event["t"].get<int>(), event["i"].get<int>()).second) << line;
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads * kEvents));
  VerifyResult result = Verify(tmp.path());
  EXPECT_TRUE(result.ok) << result.problem;
  EXPECT_EQ(result.events, kThreads * kEvents);

  // For comparison: one event, one sync.
  TempDir single_dir;
  AuditLog single(single_dir.path());
  auto single_start = std::chrono::steady_clock::now();
  for (int i = 0; i < 200; ++i) single.Append({{"i", i}});
  double single_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - single_start).count();

  std::cout << fmt::format(
      "[ audit    ] {} threads x {} events: {:.0f} events/s ({:.2f} s); one thread: {:.0f} events/s\n",
      kThreads, kEvents, kThreads * kEvents / seconds, seconds, 200 / single_seconds);
  ::testing::Test::RecordProperty("events_per_second", static_cast<int>(kThreads * kEvents / seconds));
}

// --- errors ------------------------------------------------------------------

TEST(AuditLogTest, AppendOfANonObjectThrowsInvalidArgumentAndWritesNothing) {
  TempDir tmp;
  AuditLog log(tmp.path());
  for (const json& event : {json::array({1, 2}), json("login"), json(42), json(nullptr)}) {
    Error e = CatchError([&] { log.Append(event); });
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << event;
    EXPECT_THAT(e.what(), HasSubstr("an audit event must be a JSON object, not ")) << event;
  }
  EXPECT_TRUE(log.Segments().empty());
  log.Append({{"action", "login"}});
  EXPECT_EQ(json::parse(AllLines(log)[0])["seq"], 1);
}

TEST(AuditLogTest, ADirectoryThatCannotBeCreatedGivesIoNamingIt) {
  TempDir tmp;
  tarn::testing::WriteFile(tmp / "file", "not a directory");
  fs::path dir = tmp / "file" / "audit";
  Error e = CatchError([&] { AuditLog log(dir); });
  EXPECT_EQ(e.code(), ErrorCode::kIo);
  EXPECT_THAT(e.what(), HasSubstr("cannot create the audit directory " + dir.string()));
  EXPECT_EQ(ReadBytes(tmp / "file"), "not a directory");
}

TEST(AuditLogTest, AnUnwritableDirectoryGivesIoNamingIt) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes into a read-only directory";
  TempDir tmp;
  fs::path dir = tmp / "audit";
  {
    AuditLog log(dir);  // creates .lock
  }
  fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
  AuditLog log(dir);
  Error e = CatchError([&] { log.Append({{"action", "login"}}); });
  fs::permissions(dir, fs::perms::owner_all);
  EXPECT_EQ(e.code(), ErrorCode::kIo);
  EXPECT_THAT(e.what(),
              HasSubstr("cannot create audit segment " + (dir / "audit-000000000001.jsonl").string()));
  EXPECT_TRUE(log.Segments().empty());
}

TEST(AuditLogTest, OpeningATrailWhoseLastLineIsNotAnEventRefusesToExtendIt) {
  TempDir tmp;
  {
    AuditLog log(tmp.path());
    log.Append({{"i", 0}});
  }
  fs::path segment = tmp / "audit-000000000001.jsonl";
  std::ofstream(segment, std::ios::binary | std::ios::app) << "garbage\n";
  std::string before = ReadBytes(segment);
  Error e = CatchError([&] { AuditLog log(tmp.path()); });
  EXPECT_EQ(e.code(), ErrorCode::kInternal);
  EXPECT_THAT(e.what(),
              HasSubstr("the audit trail in " + tmp.path().string() +
                        " ends with a line that is not a valid audit event (in audit-000000000001.jsonl)"));
  EXPECT_EQ(ReadBytes(segment), before);
}

TEST(AuditLogTest, AppendAfterTheDirectoryVanishedGivesIoNamingIt) {
  TempDir tmp;
  fs::path dir = tmp / "audit";
  AuditLog log(dir);
  log.Append({{"action", "login"}});
  fs::remove_all(dir);
  Error e = CatchError([&] { log.Append({{"action", "logout"}}); });
  EXPECT_EQ(e.code(), ErrorCode::kIo);
  EXPECT_THAT(e.what(), HasSubstr("cannot open the audit lock file " + (dir / ".lock").string()));
  EXPECT_FALSE(fs::exists(dir));
}

TEST(AuditLogTest, AfterTheDirectoryIsMadeAgainAppendsStartANewTrail) {
  TempDir tmp;
  fs::path dir = tmp / "audit";
  AuditLog log(dir);
  log.Append({{"action", "login"}});
  fs::remove_all(dir);
  EXPECT_EQ(CatchError([&] { log.Append({{"action", "select"}}); }).code(), ErrorCode::kIo);
  fs::create_directories(dir);
  log.Append({{"action", "logout"}});
  EXPECT_TRUE(fs::exists(dir / ".lock"));
  VerifyResult result = Verify(dir);
  EXPECT_TRUE(result.ok) << result.problem;
  EXPECT_EQ(result.events, 1);
}

// What a receipt reported: resolved at all, and the error if any.
struct Reported {
  std::mutex mu;
  std::condition_variable cv;
  bool called = false;
  int calls = 0;
  std::exception_ptr error;

  std::function<void(std::exception_ptr)> Callback() {
    return [this](std::exception_ptr e) {
      std::lock_guard<std::mutex> lock(mu);
      called = true;
      calls++;
      error = e;
      cv.notify_all();
    };
  }
  bool Wait() {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return called; });
  }
};

TEST(AuditLogTest, APostedEventIsDurableWhenItsReceiptSaysSo) {
  TempDir tmp;
  fs::path dir = tmp / "audit";
  AuditLog log(dir);
  log.Append({{"action", "login"}});
  Reported reported;
  log.Post({{"action", "select"}})->Then(reported.Callback());
  ASSERT_TRUE(reported.Wait());
  EXPECT_EQ(reported.error, nullptr);
  // Durable and in order, when the receipt resolved: read straight from the disk.
  auto lines = ReadLines(log.Segments().back());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(json::parse(lines[1])["action"], "select");
  EXPECT_EQ(json::parse(lines[1])["seq"], 2);
  EXPECT_TRUE(Verify(dir).ok);
}

TEST(AuditLogTest, ThenOnAResolvedReceiptIsCalledAtOnceAndOnlyOnce) {
  TempDir tmp;
  AuditLog log(tmp / "audit");
  auto receipt = log.Post({{"action", "select"}});
  log.Append({{"action", "after"}});  // durable, so the posted one before it is too
  Reported reported;
  receipt->Then(reported.Callback());
  EXPECT_TRUE(reported.called);  // on this thread, before Then returned
  EXPECT_EQ(reported.calls, 1);
  EXPECT_EQ(reported.error, nullptr);
}

TEST(AuditLogTest, APostedEventThatCannotBeWrittenReportsTheIoError) {
  TempDir tmp;
  fs::path dir = tmp / "audit";
  AuditLog log(dir);
  log.Append({{"action", "login"}});
  fs::remove_all(dir);
  Reported reported;
  log.Post({{"action", "select"}})->Then(reported.Callback());
  ASSERT_TRUE(reported.Wait());
  ASSERT_NE(reported.error, nullptr);
  Error e = CatchError([&] { std::rethrow_exception(reported.error); });
  EXPECT_EQ(e.code(), ErrorCode::kIo);
  EXPECT_THAT(e.what(), HasSubstr(dir.string()));
}

TEST(AuditLogTest, PostOfANonObjectThrowsAndQueuesNothing) {
  TempDir tmp;
  fs::path dir = tmp / "audit";
  AuditLog log(dir);
  EXPECT_EQ(CatchError([&] { log.Post(json::array({1, 2})); }).code(), ErrorCode::kInvalidArgument);
  log.Append({{"action", "login"}});
  EXPECT_EQ(Verify(dir).events, 1);
}

TEST(AuditLogTest, ClosingTheLogResolvesWhatWasPosted) {
  TempDir tmp;
  fs::path dir = tmp / "audit";
  Reported reported;
  {
    AuditLog log(dir);
    log.Post({{"action", "select"}})->Then(reported.Callback());
  }
  EXPECT_TRUE(reported.called);
  EXPECT_EQ(reported.error, nullptr);
  EXPECT_EQ(Verify(dir).events, 1);
}

}  // namespace
}  // namespace tarn::audit
