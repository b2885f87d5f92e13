#include "ps/restart_budget.hpp"

namespace tether {

size_t restart_budget::recent(const std::string& group, clock_type::time_point now) {
  auto& times = times_[group];
  while (!times.empty() && now - times.front() > window_)
    times.pop_front();
  return times.size();
}

bool restart_budget::spend(const std::string& group, clock_type::time_point now) {
  if (recent(group, now) >= max_)
    return false;
  times_[group].push_back(now);
  return true;
}

} // namespace tether
