// The parameter shard's logic without the actor: one key range of the flat vector, its
// optimizer, its version, each worker's applied clock, and the consistency model's rule
// for when a worker may be given parameters.
//
// Clocks: a worker's clock is the number of gradients it has pushed; applied_clocks()[w]
// is the number of w's gradients in the parameters. A push with clock < applied_clocks()[w]
// is a duplicate (a retry after a timeout or a failover) and is skipped: each (worker,
// clock) is applied at most once. A larger clock than expected is accepted (after a
// restore from a checkpoint).
//
// Consistency (core/consistency.hpp):
//   async  may_answer() is always true.
//   ssp    may_answer(w, c) when the smallest applied clock among live workers >= c - S.
//   bsp    may_answer(w, c) when the smallest applied clock among live workers >= c (the
//          same gate with S = 0). Rounds are keyed by clock: round r gathers the pushes of
//          clock r of every live worker whose applied clock is r (a worker that joined at
//          a later clock is not a member), and their average is applied as one update. The
//          gate keeps every live worker at the round's clock, so one round is open at a
//          time; a push of another clock than the open round's is refused
//          (errc::invalid_argument: the worker retries once the round has moved on).
// Staleness tau of an applied gradient = version before applying - base_version.
// Thread-safety: none; the shard actor owns it.
#pragma once

#include "core/consistency.hpp"
#include "core/layout.hpp"
#include "core/optimizer.hpp"
#include "core/status.hpp"
#include "messages/types.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace tether {

class shard_core {
public:
  static constexpr size_t histogram_cap = 1024; ///< taus above land in the last bucket

  /// A fresh shard: `params` is its slice of the initial vector.
  shard_core(uint32_t index, key_range range, std::vector<float> params, optimizer_config cfg,
             consistency_config consistency, uint32_t workers);

  /// A shard restored from a snapshot (checkpoint or hand-over). Checks the sizes.
  static result<shard_core> restore(shard_state state, optimizer_config cfg,
                                    consistency_config consistency, uint32_t workers);

  /// Takes one gradient (applies it, or adds it to the BSP round). Returns false for a
  /// duplicate. A gradient for another range, of the wrong size, or from an unknown
  /// worker is errc::invalid_argument.
  result<bool> push(const push_request& push);
  /// The same, for a gradient held elsewhere (the simulator's: no copy into a request).
  result<bool> push(uint32_t worker, uint64_t clock, uint64_t base_version, uint64_t range_begin,
                    std::span<const float> grad);

  /// Worker w says it is at clock c (a pull or push of clock c): a live worker is never
  /// behind what it says. Only after a restore (an older state, or clocks taken from
  /// reports that lag) does this change anything: the worker was answered for c by an
  /// earlier instance of this shard, and what that instance held beyond this state is lost.
  void observe(uint32_t worker, uint64_t clock);

  /// Whether worker w, whose clock is c, may be given the parameters now.
  bool may_answer(uint32_t worker, uint64_t clock) const;

  /// Records an answer to w at clock c (clock gap statistics; DC-ASGD's copy of what w
  /// read) and returns the slice, in `buffer`'s memory.
  param_slice answer(uint32_t worker, uint64_t clock, std::vector<float> buffer = {});

  /// A worker that died or finished no longer holds anyone back.
  void leave(uint32_t worker);
  /// A (re)started worker counts again, from `clock` (its applied clock is raised to at
  /// least `clock`: a shard restored from an older checkpoint is brought up to the workers'
  /// clocks this way; what it did not hold is lost, and the loss audit counts it).
  void join(uint32_t worker, uint64_t clock);

  param_slice slice() const;
  shard_state snapshot() const;

  /// Everything a hot standby needs to continue exactly here (snapshot, BSP round, live
  /// workers). DC-ASGD's per-worker read copies are not in it: a standby made from an
  /// image takes the current parameters as what every worker read, and starts its
  /// statistics (staleness, answers) afresh.
  replica_image image() const;
  /// A shard continuing from `image` with this shard's settings (a standby's sync);
  /// errc::mismatch for an image of another shard or another number of workers.
  result<shard_core> from_image(replica_image image) const;

  uint32_t index() const { return index_; }
  key_range range() const { return range_; }
  uint64_t version() const { return version_; }
  const std::vector<uint64_t>& applied_clocks() const { return applied_; }
  /// Per worker: its gradients in the parameters (distinct clocks; see shard_state).
  const std::vector<uint64_t>& applied_counts() const { return counts_; }
  const shard_stats& stats() const { return stats_; }
  /// Continues the statistics of an earlier instance of this shard (a failover's image).
  void set_stats(shard_stats stats) { stats_ = std::move(stats); }
  /// The smallest applied clock among live workers (UINT64_MAX when none is live).
  /// Amortised O(1): kept between calls and rescanned only when it may have moved.
  uint64_t min_live_clock() const;

private:
  void apply(std::span<const float> grad, uint64_t base_version, uint32_t worker);
  void complete_round_if_ready();
  /// Sets worker's applied clock to `clock` (>= its current one, or equal on a leave),
  /// keeping the smallest live clock's cache right.
  void raise_clock(uint32_t worker, uint64_t clock);

  uint32_t index_;
  key_range range_;
  std::vector<float> params_;
  range_optimizer optimizer_;
  consistency_config consistency_;
  uint64_t version_ = 0;
  std::vector<uint64_t> applied_;
  std::vector<uint64_t> counts_;
  std::vector<bool> live_;
  // The smallest live applied clock and how many live workers are at it (valid when
  // low_known_; min_live_clock() rescans otherwise).
  mutable uint64_t low_ = 0;
  mutable size_t at_low_ = 0;
  mutable bool low_known_ = false;
  shard_stats stats_;
  // BSP: the round being gathered.
  std::vector<float> round_sum_;  ///< kept allocated between rounds
  bool round_open_ = false;
  uint64_t round_clock_ = 0;       ///< the open round's clock
  std::vector<bool> in_round_;
  // DC-ASGD: per worker, the parameters it was last given.
  std::vector<std::vector<float>> read_;
  std::vector<float> compensated_;
};

} // namespace tether
