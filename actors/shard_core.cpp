#include "actors/shard_core.hpp"

#include <algorithm>
#include <string>

namespace tether {

shard_core::shard_core(uint32_t index, key_range range, std::vector<float> params,
                       optimizer_config cfg, uint32_t workers)
  : index_(index),
    range_(range),
    params_(std::move(params)),
    optimizer_(cfg, range.size()),
    applied_(workers, 0) {
}

result<shard_core> shard_core::restore(shard_state state, optimizer_config cfg, uint32_t workers) {
  key_range range{state.range_begin, state.range_end};
  if (state.params.size() != range.size())
    return status{errc::mismatch, "shard " + std::to_string(state.index) + " holds "
                                    + std::to_string(state.params.size())
                                    + " parameters for a range of " + std::to_string(range.size())};
  shard_core core{state.index, range, std::move(state.params), cfg, workers};
  if (auto st = core.optimizer_.restore(std::move(state.slots), state.optimizer_steps); !st)
    return st;
  core.version_ = state.version;
  for (size_t w = 0; w < workers && w < state.applied_clocks.size(); ++w)
    core.applied_[w] = state.applied_clocks[w];
  return core;
}

result<bool> shard_core::apply(const push_request& push) {
  if (push.worker >= applied_.size())
    return status{errc::invalid_argument, "push from unknown worker " + std::to_string(push.worker)};
  if (push.range_begin != range_.begin || push.grad.size() != range_.size())
    return status{errc::invalid_argument,
                  "push for range at " + std::to_string(push.range_begin) + " with "
                    + std::to_string(push.grad.size()) + " values sent to shard "
                    + std::to_string(index_) + " [" + std::to_string(range_.begin) + ", "
                    + std::to_string(range_.end) + ")"};
  auto& applied = applied_[push.worker];
  if (push.clock < applied) {
    ++stats_.duplicates;
    return false;
  }
  uint64_t tau = version_ > push.base_version ? version_ - push.base_version : 0;
  optimizer_.apply(params_, push.grad, lr_at(optimizer_.config(), version_));
  ++version_;
  applied = push.clock + 1;
  ++stats_.applied;
  stats_.tau_sum += static_cast<double>(tau);
  stats_.tau_max = std::max(stats_.tau_max, tau);
  return true;
}

param_slice shard_core::slice() const {
  return param_slice{version_, range_.begin, params_};
}

param_slice shard_core::slice_into(std::vector<float> buffer) const {
  buffer.assign(params_.begin(), params_.end());
  return param_slice{version_, range_.begin, std::move(buffer)};
}

shard_state shard_core::snapshot() const {
  shard_state s;
  s.index = index_;
  s.range_begin = range_.begin;
  s.range_end = range_.end;
  s.version = version_;
  s.params = params_;
  s.slots = optimizer_.slots();
  s.optimizer_steps = optimizer_.steps();
  s.applied_clocks = applied_;
  return s;
}

} // namespace tether
