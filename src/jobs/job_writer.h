// JobWriter: group commit of job-state writes.
//
// A job run changes state several times (submitted, claimed, its log and progress,
// its end), and every change must be durable before it is acknowledged. One synced
// commit per change caps the service at the store's commit rate (a few hundred per
// second on SQLite); so the changes of every caller go to one writer thread, which
// applies the waiting ones in one transaction, each in a savepoint of its own, and
// commits once for all of them.
//
// Do(change) returns only after the group that holds `change` has committed. A
// change that throws is rolled back alone (its savepoint) and Do rethrows its error;
// if the commit itself fails, Do throws that error for every change of the group.
//
// Thread-safety: Do may be called from any thread, concurrently. Not from inside a
// change (it would wait for itself).
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>

#include "jobs/job_store.h"
#include "store/store.h"

namespace tarn::jobs {

class JobWriter {
 public:
  // `open` gives the writer thread its own connection to the metadata store;
  // `publish` (if set) gets the Events of each group's committed changes (a change
  // that failed adds none), after the commit.
  explicit JobWriter(std::function<std::unique_ptr<store::MetaStore>()> open,
                     std::function<void(std::vector<Event>)> publish = {});
  ~JobWriter();
  JobWriter(const JobWriter&) = delete;
  JobWriter& operator=(const JobWriter&) = delete;

  // Applies `change` to the writer's JobStore in the next group; returns what it
  // returned once the group committed.
  template <class F>
  auto Do(F change) -> std::invoke_result_t<F, JobStore&> {
    using R = std::invoke_result_t<F, JobStore&>;
    if constexpr (std::is_void_v<R>) {
      Apply([&](JobStore& s) { change(s); });
    } else {
      std::optional<R> out;
      Apply([&](JobStore& s) { out.emplace(change(s)); });
      return std::move(*out);
    }
  }

  // Changes committed per group so far, for metrics and tests: {groups, changes}.
  std::pair<uint64_t, uint64_t> Counts() const;

 private:
  struct Change;
  void Apply(const std::function<void(JobStore&)>& change);
  void Loop();

  std::function<std::unique_ptr<store::MetaStore>()> open_;
  std::function<void(std::vector<Event>)> publish_;
  mutable std::mutex mu_;
  std::condition_variable wake_;  // the writer: changes wait or it should stop
  std::condition_variable done_;  // callers: a group committed
  std::deque<Change*> waiting_;
  bool stopping_ = false;
  uint64_t groups_ = 0, changes_ = 0;
  std::thread thread_;
};

}  // namespace tarn::jobs
