#include "messages/rejections.hpp"

#include <atomic>
#include <mutex>

namespace tether {

namespace {

std::atomic<uint64_t> rejected{0};
std::mutex listener_mutex;
std::function<void(const std::string&)> listener;

} // namespace

void report_rejection(const std::string& what) {
  rejected.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> guard{listener_mutex};
  if (listener)
    listener(what);
}

uint64_t rejected_messages() {
  return rejected.load(std::memory_order_relaxed);
}

void on_rejection(std::function<void(const std::string&)> fn) {
  std::lock_guard<std::mutex> guard{listener_mutex};
  listener = std::move(fn);
}

} // namespace tether
