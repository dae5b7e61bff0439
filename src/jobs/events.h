// EventBus: what happened to job runs, applications and schedules, for
// GET /v1/events (Server-Sent Events).
//
// Publishers hand events over once the change they describe has committed (the
// JobWriter after its group commit, the routes after theirs). The bus numbers them
// (ids increase by one, from 1 in each server life) and keeps the last `keep`, so a
// client that reconnects with Last-Event-ID misses nothing that is still kept; a
// client that was away longer is told so (`gap`). Subscribers are woken after every
// Publish and read what is new with After(). Who may see which event is the
// reader's to decide (owner and application are on the event).
//
// Thread-safety: all methods are thread-safe; `wake` callbacks run on the
// publishing thread with no lock of the bus held, and must not block.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace tarn::jobs {

struct Event {
  int64_t id = 0;    // set by Publish
  std::string type;  // job_run, application, schedule
  std::string application_id;
  std::string owner_user;  // the run's submitter or the schedule's creator ("" for applications)
  std::string owner_issuer;
  nlohmann::json data;  // what changed: ids, state, details
  // The event as one Server-Sent Events message ("id:", "event:", "data:" lines).
  std::string Sse() const;
};

class EventBus {
 public:
  explicit EventBus(size_t keep = 10000) : keep_(keep) {}

  void Publish(std::vector<Event> events);
  // Kept events with an id above `after`, oldest first, at most `max`. `gap` is set
  // when events above `after` were already dropped (or `after` is from another life).
  std::vector<Event> After(int64_t after, size_t max, bool* gap = nullptr) const;
  int64_t last_id() const;

  uint64_t Subscribe(std::function<void()> wake);
  void Unsubscribe(uint64_t subscription);
  // The server stops: wakes every subscriber, whose streams should end (closed()).
  void Close();
  bool closed() const;

 private:
  size_t keep_;
  mutable std::mutex mu_;
  std::deque<Event> kept_;
  int64_t last_id_ = 0;
  uint64_t next_subscription_ = 1;
  std::map<uint64_t, std::function<void()>> subscribers_;
  bool closed_ = false;
};

}  // namespace tarn::jobs
