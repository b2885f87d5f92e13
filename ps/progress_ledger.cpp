#include "ps/progress_ledger.hpp"

#include <algorithm>

namespace tether {

void add_stats(shard_stats& a, const shard_stats& b) {
  a.applied += b.applied;
  a.duplicates += b.duplicates;
  a.tau_sum += b.tau_sum;
  a.tau_max = std::max(a.tau_max, b.tau_max);
  a.max_clock_gap = std::max(a.max_clock_gap, b.max_clock_gap);
  a.answers += b.answers;
  if (a.tau_histogram.size() < b.tau_histogram.size())
    a.tau_histogram.resize(b.tau_histogram.size(), 0);
  for (size_t t = 0; t < b.tau_histogram.size(); ++t)
    a.tau_histogram[t] += b.tau_histogram[t];
}

namespace {

/// The first multiple of `every` above `n` (every > 0).
uint64_t next_multiple(uint64_t n, uint64_t every) {
  return (n / every + 1) * every;
}

} // namespace

progress_ledger::progress_ledger(settings s)
    : settings_(s), current_(s.shards), carried_(s.shards) {
  if (settings_.updates_per_epoch == 0)
    settings_.updates_per_epoch = 1;
  auto n = settings_.start_updates;
  next_eval_ = next_multiple(n, settings_.updates_per_epoch);
  if (settings_.eval_every > 0)
    next_eval_ = std::min(next_eval_, next_multiple(n, settings_.eval_every));
  next_checkpoint_ = settings_.checkpoint_every > 0 ? next_multiple(n, settings_.checkpoint_every)
                                                    : UINT64_MAX;
}

void progress_ledger::start_slot(uint32_t s, uint64_t clock) {
  if (s >= slots_.size())
    slots_.resize(s + 1);
  auto& sl = slots_[s];
  if (sl.live && !sl.done) {
    // A replacement: the slot goes on from where its predecessor was.
    sl.clock = std::max(sl.clock, clock);
    return;
  }
  // Started fresh (or again after it retired): its earlier steps stay counted.
  uint64_t earlier = sl.clock - std::min(sl.clock, sl.start_clock);
  sl.start_clock = clock - std::min(clock, earlier);
  sl.clock = clock;
  sl.live = true;
  sl.done = false;
}

bool progress_ledger::on_step(uint32_t s, uint64_t clock, float loss, double blocked) {
  if (s >= slots_.size())
    return false;
  auto& sl = slots_[s];
  sl.blocked_seconds = blocked;
  sl.last_loss = loss;
  if (clock <= sl.clock)
    return false;
  steps_ += clock - sl.clock;
  sl.acked += clock - sl.clock;
  sl.clock = clock;
  recent_.push_back(loss);
  recent_sum_ += loss;
  if (recent_.size() > settings_.recent_losses) {
    recent_sum_ -= recent_.front();
    recent_.pop_front();
  }
  return true;
}

void progress_ledger::mark_done(uint32_t s) {
  if (s < slots_.size()) {
    slots_[s].done = true;
    slots_[s].live = false;
  }
}

bool progress_ledger::all_done() const {
  return std::all_of(slots_.begin(), slots_.end(), [](const slot& s) { return !s.live; });
}

std::vector<uint64_t> progress_ledger::clocks() const {
  std::vector<uint64_t> out;
  for (const auto& s : slots_)
    out.push_back(s.clock);
  return out;
}

std::vector<uint64_t> progress_ledger::acked() const {
  std::vector<uint64_t> out;
  for (const auto& s : slots_)
    out.push_back(s.acked);
  return out;
}

uint64_t progress_ledger::updates() const {
  return updates_at(clocks());
}

uint64_t progress_ledger::updates_at(const std::vector<uint64_t>& target) const {
  if (settings_.model == consistency_model::bsp)
    return target.empty() ? 0 : *std::max_element(target.begin(), target.end());
  uint64_t n = settings_.start_updates;
  for (size_t s = 0; s < target.size() && s < slots_.size(); ++s)
    n += target[s] - std::min(target[s], slots_[s].start_clock);
  return n;
}

uint64_t progress_ledger::samples_at(const std::vector<uint64_t>& target) const {
  uint64_t steps = 0;
  for (size_t s = 0; s < target.size() && s < slots_.size(); ++s)
    steps += target[s] - std::min(target[s], slots_[s].start_clock);
  return steps * settings_.batch;
}

double progress_ledger::epoch() const {
  return static_cast<double>(updates()) / static_cast<double>(settings_.updates_per_epoch);
}

uint64_t progress_ledger::samples() const {
  return samples_at(clocks());
}

uint64_t progress_ledger::slowest_live_clock() const {
  uint64_t low = UINT64_MAX;
  for (const auto& s : slots_)
    if (s.live)
      low = std::min(low, s.clock);
  return low;
}

uint64_t progress_ledger::clock_lag() const {
  uint64_t low = UINT64_MAX, high = 0;
  for (const auto& s : slots_)
    if (s.live) {
      low = std::min(low, s.clock);
      high = std::max(high, s.clock);
    }
  return low == UINT64_MAX ? 0 : high - low;
}

double progress_ledger::mean_loss() const {
  return recent_.empty() ? 0.0 : recent_sum_ / static_cast<double>(recent_.size());
}

double progress_ledger::blocked_seconds() const {
  double sum = 0;
  for (const auto& s : slots_)
    sum += s.blocked_seconds;
  return sum;
}

void progress_ledger::start_training(clock_type::time_point now) {
  started_ = now;
}

void progress_ledger::pause(clock_type::duration d) {
  if (!ended_)
    paused_ += d;
}

void progress_ledger::end_training(clock_type::time_point now) {
  if (ended_)
    return;
  ended_ = true;
  ended_at_ = now;
}

double progress_ledger::training_seconds(clock_type::time_point now) const {
  auto end = ended_ ? ended_at_ : now;
  return std::max(0.0, std::chrono::duration<double>(end - started_ - paused_).count());
}

double progress_ledger::samples_per_second(clock_type::time_point now) const {
  double t = training_seconds(now);
  return t > 0 ? static_cast<double>(samples()) / t : 0.0;
}

progress_ledger::due progress_ledger::take_due() {
  due d;
  auto n = updates();
  if (n >= next_eval_) {
    d.evaluate = true;
    next_eval_ = next_multiple(n, settings_.updates_per_epoch);
    if (settings_.eval_every > 0)
      next_eval_ = std::min(next_eval_, next_multiple(n, settings_.eval_every));
  }
  if (n >= next_checkpoint_) {
    d.checkpoint = true;
    next_checkpoint_ = next_multiple(n, settings_.checkpoint_every);
  }
  return d;
}

void progress_ledger::note_stats(size_t shard, const shard_stats& s) {
  if (shard >= current_.size()) {
    current_.resize(shard + 1);
    carried_.resize(shard + 1);
  }
  current_[shard] = s;
}

void progress_ledger::retire_shard(size_t shard) {
  if (shard >= current_.size())
    return;
  add_stats(carried_[shard], current_[shard]);
  current_[shard] = shard_stats{};
}

shard_stats progress_ledger::totals() const {
  shard_stats sum;
  for (size_t j = 0; j < current_.size(); ++j) {
    add_stats(sum, carried_[j]);
    add_stats(sum, current_[j]);
  }
  return sum;
}

std::vector<uint64_t> progress_ledger::lost_per_shard(const std::vector<shard_state>& initial,
                                                      const std::vector<shard_state>& final) const {
  std::vector<uint64_t> lost(final.size(), 0);
  auto count = [](const shard_state& s, size_t w) {
    return w < s.applied_counts.size() ? s.applied_counts[w] : 0;
  };
  for (size_t j = 0; j < final.size(); ++j)
    for (size_t w = 0; w < slots_.size(); ++w) {
      uint64_t before = j < initial.size() ? count(initial[j], w) : 0;
      uint64_t now = count(final[j], w);
      uint64_t held = now > before ? now - before : 0;
      if (slots_[w].acked > held)
        lost[j] += slots_[w].acked - held;
    }
  return lost;
}

} // namespace tether
