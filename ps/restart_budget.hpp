// One-for-one restart budgets: each group of actors (workers; shards with their standbys;
// the checkpointer) may be restarted at most `max` times within any `window`. A failover
// to a standby counts against the shard group like a restart.
//
// Plain data, no CAF; one owner.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <string>

namespace tether {

class restart_budget {
public:
  using clock_type = std::chrono::steady_clock;

  restart_budget(uint32_t max, clock_type::duration window) : max_(max), window_(window) {}

  /// Spends one restart of `group` at `now`; false (and nothing spent) when the group has
  /// had `max` restarts within the window before `now`.
  bool spend(const std::string& group, clock_type::time_point now);

  /// Restarts of `group` within the window before `now`.
  size_t recent(const std::string& group, clock_type::time_point now);

  uint32_t max() const { return max_; }
  clock_type::duration window() const { return window_; }

private:
  uint32_t max_;
  clock_type::duration window_;
  std::map<std::string, std::deque<clock_type::time_point>> times_;
};

} // namespace tether
