#include "jobs/job_writer.h"

#include <vector>

namespace tarn::jobs {

namespace {
constexpr size_t kMaxGroup = 512;
}

struct JobWriter::Change {
  const std::function<void(JobStore&)>& apply;
  std::exception_ptr error;
  bool done = false;
};

JobWriter::JobWriter(std::function<std::unique_ptr<store::MetaStore>()> open,
                     std::function<void(std::vector<Event>)> publish)
    : open_(std::move(open)), publish_(std::move(publish)), thread_([this] { Loop(); }) {}

JobWriter::~JobWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

std::pair<uint64_t, uint64_t> JobWriter::Counts() const {
  std::lock_guard lock(mu_);
  return {groups_, changes_};
}

void JobWriter::Apply(const std::function<void(JobStore&)>& apply) {
  Change change{apply, nullptr, false};
  std::unique_lock lock(mu_);
  waiting_.push_back(&change);
  wake_.notify_one();
  done_.wait(lock, [&] { return change.done; });
  if (change.error) std::rethrow_exception(change.error);
}

void JobWriter::Loop() {
  std::unique_ptr<store::MetaStore> meta;
  while (true) {
    std::vector<Change*> group;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
      if (waiting_.empty()) return;  // stopping, and every caller answered
      while (!waiting_.empty() && group.size() < kMaxGroup) {
        group.push_back(waiting_.front());
        waiting_.pop_front();
      }
    }
    std::vector<Event> events;
    bool committed = false;
    try {
      if (!meta) meta = open_();
      JobStore store(*meta);
      store.CollectEvents(&events);
      meta->Transaction([&] {
        for (Change* c : group) {
          size_t mark = events.size();
          try {
            meta->Transaction([&] { c->apply(store); });
          } catch (...) {
            c->error = std::current_exception();
            events.resize(mark);  // rolled back: it did not happen
          }
        }
      });
      committed = true;
    } catch (...) {
      // Nothing of the group committed: every change fails with the store's error,
      // and the next group opens a fresh connection.
      for (Change* c : group) {
        if (!c->error) c->error = std::current_exception();
      }
      meta.reset();
    }
    if (committed && publish_) publish_(std::move(events));
    std::lock_guard lock(mu_);
    groups_++;
    changes_ += group.size();
    for (Change* c : group) c->done = true;
    done_.notify_all();
  }
}

}  // namespace tarn::jobs
