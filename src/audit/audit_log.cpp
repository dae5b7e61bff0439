#include "audit/audit_log.h"

#include <openssl/evp.h>

#include <chrono>
#include <system_error>

#include "audit/chain_writer.h"
#include "audit/segment_files.h"
#include "common/error.h"

namespace fs = std::filesystem;

namespace tarn::audit {

using internal::PendingEvent;

namespace {
// A batch this large is written at once (see AuditLog::Run).
constexpr size_t kFullBatch = 32;
}  // namespace

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr) != 1)
    throw Error::Internal("SHA-256 failed in OpenSSL");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(size * 2, '\0');
  for (unsigned int i = 0; i < size; i++) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 15];
  }
  return hex;
}

AuditLog::AuditLog(fs::path dir, AuditOptions options)
    : dir_(std::move(dir)), writer_(std::make_unique<internal::ChainWriter>(dir_, options.segment_bytes)) {
  try {
    thread_ = std::thread([this] { Run(); });
  } catch (const std::system_error& e) {
    throw Error::ResourceExhausted("cannot start the audit writer thread for {}: {}", dir_.string(),
                                   e.what());
  }
}

AuditLog::~AuditLog() {
  try {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    work_cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  } catch (...) {
    // Nothing sensible is left to do; a destructor does not throw.
  }
}

void Receipt::Then(std::function<void(std::exception_ptr)> then) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!resolved_) {
    then_ = std::move(then);
    return;
  }
  std::exception_ptr error = error_;
  lock.unlock();
  then(error);
}

void Receipt::Resolve(std::exception_ptr error) {
  std::function<void(std::exception_ptr)> then;
  {
    std::lock_guard<std::mutex> lock(mu_);
    resolved_ = true;
    error_ = error;
    then.swap(then_);
  }
  if (then) then(error);
}

namespace {

std::shared_ptr<PendingEvent> Pending(nlohmann::json event) {
  if (!event.is_object())
    throw Error::InvalidArgument("an audit event must be a JSON object, not {}", event.type_name());
  if (!event.contains("time")) event["time"] = internal::NowUtcMillis();
  auto pending = std::make_shared<PendingEvent>();
  pending->event = std::move(event);
  return pending;
}

}  // namespace

void AuditLog::Enqueue(const std::shared_ptr<PendingEvent>& pending) {
  if (stopping_) throw Error::Internal("the audit log in {} is closing", dir_.string());
  queue_.push_back(pending);
  if (queue_.size() == 1 || queue_.size() >= kFullBatch) work_cv_.notify_one();
}

void AuditLog::Append(nlohmann::json event) {
  auto pending = Pending(std::move(event));
  std::unique_lock<std::mutex> lock(mu_);
  Enqueue(pending);
  done_cv_.wait(lock, [&] { return pending->done; });
  if (pending->error) std::rethrow_exception(pending->error);
}

std::shared_ptr<Receipt> AuditLog::Post(nlohmann::json event) {
  auto pending = Pending(std::move(event));
  pending->receipt = std::make_shared<Receipt>();
  std::lock_guard<std::mutex> lock(mu_);
  Enqueue(pending);
  return pending->receipt;
}

std::vector<fs::path> AuditLog::Segments() const {
  std::vector<fs::path> out;
  for (auto& segment : internal::ListSegments(dir_)) out.push_back(std::move(segment.path));
  return out;
}

void AuditLog::Run() {
  // Under concurrent load (the last sync ended moments ago and carried several
  // events) a small batch waits a little for more: fewer syncs for the same events.
  // An idle log, or one caller appending one event after another, syncs at once.
  constexpr auto kBusy = std::chrono::microseconds(1000);
  constexpr auto kGather = std::chrono::microseconds(200);
  std::vector<std::shared_ptr<PendingEvent>> batch;
  std::vector<PendingEvent*> events;
  auto last_sync = std::chrono::steady_clock::time_point();
  size_t last_batch = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is written
      auto now = std::chrono::steady_clock::now();
      if (last_batch > 1 && queue_.size() < kFullBatch && now - last_sync < kBusy) {
        work_cv_.wait_until(lock, now + kGather, [&] { return stopping_ || queue_.size() >= kFullBatch; });
      }
      batch.swap(queue_);
    }
    for (auto& pending : batch) events.push_back(pending.get());
    writer_->WriteBatch(events);
    last_sync = std::chrono::steady_clock::now();
    last_batch = batch.size();
    // Receipts first: an Append that returns has every event queued before it
    // resolved, receipts included.
    for (auto& pending : batch) {
      if (pending->receipt) pending->receipt->Resolve(pending->error);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& pending : batch) pending->done = true;
    }
    done_cv_.notify_all();
    batch.clear();
    events.clear();
  }
}

}  // namespace tarn::audit
