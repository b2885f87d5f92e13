// The simulator's agenda: events ordered by virtual time, ties in the order scheduled
// (a sequence number), so equal-time events never depend on the heap's whims.
#pragma once

#include <cstdint>
#include <queue>
#include <vector>

namespace tether {

enum class sim_event_kind : uint8_t {
  pull_arrives,   ///< a worker's first request reaches a shard
  compute_done,   ///< a worker finished its gradient
  push_arrives,   ///< a gradient slice reaches its shard
  apply_done,     ///< the shard finished applying it
  answer_arrives, ///< a shard's parameters reach the worker
};

struct sim_event {
  double time = 0;
  uint64_t seq = 0;
  sim_event_kind kind = sim_event_kind::compute_done;
  uint32_t worker = 0;
  uint32_t shard = 0;
};

class event_queue {
public:
  void schedule(double time, sim_event_kind kind, uint32_t worker, uint32_t shard = 0) {
    heap_.push(sim_event{time, next_seq_++, kind, worker, shard});
  }
  bool empty() const { return heap_.empty(); }
  sim_event pop() {
    auto e = heap_.top();
    heap_.pop();
    return e;
  }

private:
  struct later {
    bool operator()(const sim_event& a, const sim_event& b) const {
      return a.time != b.time ? a.time > b.time : a.seq > b.seq;
    }
  };
  std::priority_queue<sim_event, std::vector<sim_event>, later> heap_;
  uint64_t next_seq_ = 0;
};

} // namespace tether
