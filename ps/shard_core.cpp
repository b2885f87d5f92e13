#include "ps/shard_core.hpp"

#include <algorithm>
#include <string>

namespace tether {

shard_core::shard_core(uint32_t index, key_range range, std::vector<float> params,
                       optimizer_config cfg, consistency_config consistency, uint32_t workers)
  : index_(index),
    range_(range),
    params_(std::move(params)),
    optimizer_(cfg.decayed.empty() ? range_optimizer(cfg, range.size())
                                   : range_optimizer(cfg, range, cfg.decayed)),
    consistency_(consistency),
    applied_(workers, 0),
    counts_(workers, 0),
    live_(workers, true),
    in_round_(workers, false) {
  if (consistency_.dc_lambda > 0)
    read_.assign(workers, params_);
}

result<shard_core> shard_core::restore(shard_state state, optimizer_config cfg,
                                       consistency_config consistency, uint32_t workers) {
  key_range range{state.range_begin, state.range_end};
  if (state.params.size() != range.size())
    return status{errc::mismatch, "shard " + std::to_string(state.index) + " holds "
                                    + std::to_string(state.params.size())
                                    + " parameters for a range of " + std::to_string(range.size())};
  shard_core core{state.index, range, std::move(state.params), cfg, consistency, workers};
  if (auto st = core.optimizer_.restore(std::move(state.slots), state.optimizer_steps); !st)
    return st;
  core.version_ = state.version;
  for (size_t w = 0; w < workers && w < state.applied_clocks.size(); ++w)
    core.applied_[w] = state.applied_clocks[w];
  core.low_known_ = false;
  for (size_t w = 0; w < workers && w < state.applied_counts.size(); ++w)
    core.counts_[w] = state.applied_counts[w];
  return core;
}

result<bool> shard_core::push(const push_request& push) {
  return this->push(push.worker, push.clock, push.base_version, push.range_begin, push.grad);
}

result<bool> shard_core::push(uint32_t worker, uint64_t clock, uint64_t base_version,
                              uint64_t range_begin, std::span<const float> grad) {
  if (worker >= applied_.size())
    return status{errc::invalid_argument, "push from unknown worker " + std::to_string(worker)};
  if (range_begin != range_.begin || grad.size() != range_.size())
    return status{errc::invalid_argument,
                  "push for range at " + std::to_string(range_begin) + " with "
                    + std::to_string(grad.size()) + " values sent to shard "
                    + std::to_string(index_) + " [" + std::to_string(range_.begin) + ", "
                    + std::to_string(range_.end) + ")"};
  auto w = worker;
  observe(w, clock);
  if (clock < applied_[w] || (in_round_[w] && clock == round_clock_)) {
    ++stats_.duplicates;
    return false;
  }
  if (consistency_.model != consistency_model::bsp) {
    apply(grad, base_version, w);
    raise_clock(w, clock + 1);
    ++counts_[w];
    return true;
  }
  // BSP: round r = the smallest applied clock among live workers; its members are the
  // live workers at r. A push of another clock is refused: the gate (may_answer) never
  // lets a worker compute at a clock other than the open round's, so this happens only
  // in a transition (a restore, a late message), and the worker's retry comes right.
  auto round = min_live_clock();
  if (!live_[w] || clock != applied_[w] || clock != round)
    return status{errc::invalid_argument,
                  "push of worker " + std::to_string(w) + " at clock "
                    + std::to_string(clock) + " while shard " + std::to_string(index_)
                    + " gathers round " + std::to_string(round) + "; pull and try again"};
  if (!round_open_) {
    // The round's first gradient starts the sum: no zeroing pass.
    round_sum_.assign(grad.begin(), grad.end());
    round_open_ = true;
    round_clock_ = round;
  } else {
    for (size_t i = 0; i < round_sum_.size(); ++i)
      round_sum_[i] += grad[i];
  }
  in_round_[w] = true;
  ++stats_.applied;
  stats_.tau_histogram.resize(std::max<size_t>(stats_.tau_histogram.size(), 1));
  ++stats_.tau_histogram[0];
  complete_round_if_ready();
  return true;
}

void shard_core::complete_round_if_ready() {
  if (!round_open_)
    return;
  size_t members = 0;
  for (size_t w = 0; w < live_.size(); ++w) {
    if (in_round_[w]) {
      ++members;
      continue;
    }
    if (live_[w] && applied_[w] == round_clock_)
      return; // a member still to come
  }
  if (members == 0)
    return;
  if (members > 1) {
    float scale = 1.0f / static_cast<float>(members);
    for (auto& g : round_sum_)
      g *= scale;
  }
  optimizer_.apply(params_, round_sum_, lr_at(optimizer_.config(), version_));
  ++version_;
  for (size_t w = 0; w < in_round_.size(); ++w) {
    if (in_round_[w]) {
      raise_clock(static_cast<uint32_t>(w), round_clock_ + 1);
      ++counts_[w];
    }
    in_round_[w] = false;
  }
  round_open_ = false;
}

void shard_core::apply(std::span<const float> grad, uint64_t base_version, uint32_t worker) {
  uint64_t tau = version_ > base_version ? version_ - base_version : 0;
  float lr = lr_at(optimizer_.config(), version_);
  if (consistency_.lr_rule == staleness_lr::inverse && tau > 1)
    lr /= static_cast<float>(tau);
  if (consistency_.dc_lambda > 0) {
    // DC-ASGD: g + lambda * g * g * (w_now - w_read), elementwise.
    const auto& read = read_[worker];
    compensated_.resize(grad.size());
    const float lambda = consistency_.dc_lambda;
    for (size_t i = 0; i < grad.size(); ++i)
      compensated_[i] = grad[i] + lambda * grad[i] * grad[i] * (params_[i] - read[i]);
    grad = compensated_;
  }
  optimizer_.apply(params_, grad, lr);
  ++version_;
  ++stats_.applied;
  stats_.tau_sum += static_cast<double>(tau);
  stats_.tau_max = std::max(stats_.tau_max, tau);
  auto bucket = std::min<uint64_t>(tau, histogram_cap);
  if (stats_.tau_histogram.size() <= bucket)
    stats_.tau_histogram.resize(bucket + 1, 0);
  ++stats_.tau_histogram[bucket];
}

uint64_t shard_core::min_live_clock() const {
  if (low_known_)
    return low_;
  low_ = UINT64_MAX;
  at_low_ = 0;
  for (size_t w = 0; w < applied_.size(); ++w) {
    if (!live_[w])
      continue;
    if (applied_[w] < low_) {
      low_ = applied_[w];
      at_low_ = 0;
    }
    at_low_ += applied_[w] == low_ ? 1 : 0;
  }
  low_known_ = true;
  return low_;
}

void shard_core::raise_clock(uint32_t worker, uint64_t clock) {
  // Clocks only grow: the smallest live clock moves only when the last live worker at it
  // moves on (or leaves), so it is rescanned once per new value, not once per change.
  if (low_known_ && live_[worker] && applied_[worker] == low_ && --at_low_ == 0)
    low_known_ = false;
  applied_[worker] = clock;
}

void shard_core::observe(uint32_t worker, uint64_t clock) {
  if (worker < applied_.size() && live_[worker] && !in_round_[worker] && clock > applied_[worker]) {
    raise_clock(worker, clock);
    complete_round_if_ready(); // it is no longer a member of an open round below its clock
  }
}

bool shard_core::may_answer(uint32_t, uint64_t clock) const {
  switch (consistency_.model) {
    case consistency_model::async:
      return true;
    case consistency_model::ssp: {
      auto low = min_live_clock();
      return low == UINT64_MAX || low + consistency_.staleness >= clock;
    }
    case consistency_model::bsp: {
      auto low = min_live_clock();
      return low == UINT64_MAX || low >= clock;
    }
  }
  return true;
}

param_slice shard_core::answer(uint32_t worker, uint64_t clock, std::vector<float> buffer) {
  auto low = min_live_clock();
  if (low != UINT64_MAX && clock > low)
    stats_.max_clock_gap = std::max(stats_.max_clock_gap, clock - low);
  ++stats_.answers;
  if (consistency_.dc_lambda > 0 && worker < read_.size())
    read_[worker] = params_;
  buffer.assign(params_.begin(), params_.end());
  return param_slice{version_, range_.begin, std::move(buffer)};
}

void shard_core::leave(uint32_t worker) {
  if (worker >= live_.size())
    return;
  if (live_[worker])
    raise_clock(worker, applied_[worker]); // no longer counted at the smallest clock
  live_[worker] = false;
  complete_round_if_ready();
}

void shard_core::join(uint32_t worker, uint64_t clock) {
  if (worker >= live_.size())
    return;
  if (consistency_.model == consistency_model::bsp && !live_[worker]) {
    // Never behind the others: a live worker below the round would hold every round
    // back. What it did not push (and what a restored shard lost) the audit counts.
    live_[worker] = false;
    auto low = min_live_clock();
    if (low != UINT64_MAX)
      clock = std::max(clock, round_open_ ? round_clock_ : low);
  }
  live_[worker] = true;
  if (!in_round_[worker])
    applied_[worker] = std::max(applied_[worker], clock);
  low_known_ = false; // a worker that comes back may be the slowest

}

param_slice shard_core::slice() const {
  return param_slice{version_, range_.begin, params_};
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
  s.applied_counts = counts_;
  return s;
}

} // namespace tether

namespace tether {

replica_image shard_core::image() const {
  replica_image out;
  out.state = snapshot();
  out.stats = stats_;
  if (round_open_)
    out.round_sum = round_sum_;
  out.round_clocks.assign(applied_.size(), UINT64_MAX);
  out.live.assign(applied_.size(), 0);
  for (size_t w = 0; w < applied_.size(); ++w) {
    if (round_open_ && in_round_[w])
      out.round_clocks[w] = round_clock_;
    out.live[w] = live_[w] ? 1 : 0;
  }
  return out;
}

result<shard_core> shard_core::from_image(replica_image image) const {
  auto workers = static_cast<uint32_t>(applied_.size());
  if (image.state.index != index_ || image.state.range_begin != range_.begin
      || image.state.range_end != range_.end)
    return status{errc::mismatch, "a replica image of shard " + std::to_string(image.state.index)
                                    + " was sent to shard " + std::to_string(index_)};
  if (image.round_clocks.size() != workers || image.live.size() != workers
      || (!image.round_sum.empty() && image.round_sum.size() != range_.size()))
    return status{errc::mismatch, "a replica image for shard " + std::to_string(index_)
                                    + " does not fit its " + std::to_string(workers)
                                    + " workers and range"};
  auto core = restore(std::move(image.state), optimizer_.config(), consistency_, workers);
  if (!core)
    return core;
  auto& c = *core;
  for (size_t w = 0; w < workers; ++w) {
    c.live_[w] = image.live[w] != 0;
    c.low_known_ = false;
    if (!image.round_sum.empty() && image.round_clocks[w] != UINT64_MAX) {
      c.in_round_[w] = true;
      c.round_clock_ = image.round_clocks[w];
    }
  }
  c.stats_ = std::move(image.stats);
  if (!image.round_sum.empty()) {
    c.round_sum_ = std::move(image.round_sum);
    c.round_open_ = true;
  }
  return core;
}

} // namespace tether
