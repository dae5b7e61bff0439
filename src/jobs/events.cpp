#include "jobs/events.h"

#include <fmt/format.h>

#include <algorithm>

namespace tarn::jobs {

std::string Event::Sse() const {
  // data is one line of JSON (dump() escapes newlines), so one "data:" line suffices.
  return fmt::format("id: {}\nevent: {}\ndata: {}\n\n", id, type, data.dump());
}

void EventBus::Publish(std::vector<Event> events) {
  if (events.empty()) return;
  std::vector<std::function<void()>> wake;
  {
    std::lock_guard lock(mu_);
    for (auto& e : events) {
      e.id = ++last_id_;
      e.data["event_id"] = e.id;
      kept_.push_back(std::move(e));
    }
    while (kept_.size() > keep_) kept_.pop_front();
    for (auto& [id, w] : subscribers_) wake.push_back(w);
  }
  for (auto& w : wake) w();
}

std::vector<Event> EventBus::After(int64_t after, size_t max, bool* gap) const {
  std::lock_guard lock(mu_);
  if (gap) {
    int64_t first_kept = kept_.empty() ? last_id_ + 1 : kept_.front().id;
    *gap = after > last_id_ || (after + 1 < first_kept && after < last_id_);
  }
  std::vector<Event> out;
  if (kept_.empty()) return out;
  // Ids are consecutive: the first one above `after` is at a known place.
  int64_t start = std::max<int64_t>(0, after + 1 - kept_.front().id);
  for (size_t i = static_cast<size_t>(start); i < kept_.size() && out.size() < max; i++)
    out.push_back(kept_[i]);
  return out;
}

int64_t EventBus::last_id() const {
  std::lock_guard lock(mu_);
  return last_id_;
}

uint64_t EventBus::Subscribe(std::function<void()> wake) {
  std::lock_guard lock(mu_);
  uint64_t id = next_subscription_++;
  subscribers_[id] = std::move(wake);
  return id;
}

void EventBus::Unsubscribe(uint64_t subscription) {
  std::lock_guard lock(mu_);
  subscribers_.erase(subscription);
}

void EventBus::Close() {
  std::vector<std::function<void()>> wake;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    for (auto& [id, w] : subscribers_) wake.push_back(w);
  }
  for (auto& w : wake) w();
}

bool EventBus::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

}  // namespace tarn::jobs
