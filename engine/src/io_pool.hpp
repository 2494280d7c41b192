// IoPool and Timer: the Executor's threads for waiting, so that compute workers never wait.
//
// IoPool runs jobs that mostly wait (TaskOptions::io tasks, disk-cache writes) on threads started
// as the jobs arrive, up to a limit, and kept until the Executor goes. Timer runs jobs at a time
// (retry delays) on one thread of its own. Jobs are short hand-offs or I/O; none blocks on
// another job of the same pool.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace dagflow::detail {

class IoPool {
 public:
  /// At most `max_threads` threads (at least 1).
  explicit IoPool(std::size_t max_threads);
  /// Waits for the jobs already queued, then joins the threads.
  ~IoPool();
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  /// Runs `job` on an I/O thread: an idle one, else a new one while under the limit, else the
  /// first to be free. When not even one thread can be started (a low `ulimit -u`), runs it on
  /// the calling thread instead.
  void submit(std::function<void()> job);

  [[nodiscard]] std::size_t max_threads() const noexcept { return max_threads_; }
  /// The calling thread's index in its IoPool (0 .. max_threads-1), or SIZE_MAX on any other
  /// thread.
  [[nodiscard]] static std::size_t current_index() noexcept;

 private:
  void serve(std::size_t index);

  std::size_t max_threads_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  std::size_t idle_ = 0;
  bool stopping_ = false;
};

class Timer {
 public:
  Timer() = default;
  /// Runs the jobs still pending at once, then joins its thread.
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  /// Runs `job` on the timer's thread at `when` (or at once, through fire_now(owner)).
  void schedule(std::chrono::steady_clock::time_point when, const void* owner,
                std::function<void()> job);
  /// Runs `owner`'s pending jobs now (a cancelled run does not wait out its retry delays).
  void fire_now(const void* owner);

 private:
  struct Entry {
    const void* owner;
    std::function<void()> job;
  };
  void serve();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::multimap<std::chrono::steady_clock::time_point, Entry> pending_;
  std::thread thread_;
  bool stopping_ = false;
};

}  // namespace dagflow::detail
