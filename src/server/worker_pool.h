// WorkerPool: a fixed set of threads running request handlers, with a bounded queue.
//
// Submit() never blocks: when the queue is full it returns false and the caller
// answers 429. Each job learns which worker runs it, so per-worker resources (a
// metadata-store connection) need no locking. Stop() lets queued jobs finish.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tarn::server {

class WorkerPool {
 public:
  using Job = std::function<void(size_t worker)>;

  WorkerPool(size_t workers, size_t max_queue);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `job`; false if the queue is full or the pool is stopping.
  bool Submit(Job job);
  // Jobs waiting for a worker.
  size_t QueueDepth() const;
  size_t size() const { return threads_.size(); }
  // Finishes queued jobs, then joins the threads. Idempotent.
  void Stop();

 private:
  void Loop(size_t worker);
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  size_t max_queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace tarn::server
