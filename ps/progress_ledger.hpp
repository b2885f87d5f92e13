// The job's progress as the supervisor knows it: the one place where updates, samples,
// training time, clock lag, the recent loss, the evaluation and checkpoint schedule, the
// consistency statistics and the loss audit are computed.
//
// Worker slots report each step they finish (their clock: steps done, and the loss); a
// slot's first clock in this run is where it started (a resume, a replacement, a slot
// added mid-run), so samples count this run's steps only. Updates are the gradients
// applied to the whole model: under bsp one per round (the largest clock), otherwise one
// per step (the updates at the start plus every step done since).
//
// Shard statistics arrive in snapshots (each shard's running totals). A shard that is
// restarted without its history (restored from a checkpoint) starts its totals at zero:
// retire_shard() folds the old instance's last totals into a carried part, so the
// job's totals and its largest clock gap cover the whole run. A failover's standby
// continues its primary's totals itself (they travel in the replica image).
//
// Plain data, no CAF; one owner, not thread-safe.
#pragma once

#include "core/consistency.hpp"
#include "messages/types.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <vector>

namespace tether {

class progress_ledger {
public:
  using clock_type = std::chrono::steady_clock;

  struct settings {
    consistency_model model = consistency_model::async;
    uint32_t batch = 1;
    uint64_t updates_per_epoch = 1; ///< for epochs and the end-of-epoch evaluations
    uint64_t eval_every = 0;        ///< updates; 0: epoch ends only
    uint64_t checkpoint_every = 0;  ///< updates; 0: the final checkpoint only
    uint64_t start_updates = 0;     ///< updates already applied (a resumed job)
    size_t shards = 0;
    size_t recent_losses = 100;     ///< the training loss shown is the mean of these steps
  };

  struct slot {
    uint64_t start_clock = 0; ///< its clock when this run started it
    uint64_t clock = 0;       ///< steps done (reported)
    uint64_t acked = 0;       ///< steps it was answered for in this run (the loss audit)
    double blocked_seconds = 0;
    bool live = false;        ///< started and not done
    bool done = false;        ///< finished its work (or stopped)
    float last_loss = 0;
  };

  explicit progress_ledger(settings s);

  // -- worker slots --------------------------------------------------------------
  /// Starts (or restarts after it retired) slot `s` at `clock`.
  void start_slot(uint32_t s, uint64_t clock);
  /// A report: slot s finished step `clock - 1`. Answers whether the clock moved on (a
  /// repeated report after a restart does not count twice).
  bool on_step(uint32_t s, uint64_t clock, float loss, double blocked_seconds);
  void mark_done(uint32_t s);
  const slot& at(uint32_t s) const { return slots_.at(s); }
  size_t slot_count() const { return slots_.size(); }
  /// Every started slot is done.
  bool all_done() const;
  std::vector<uint64_t> clocks() const;
  std::vector<uint64_t> acked() const;

  // -- what the progress line shows ---------------------------------------------------
  uint64_t updates() const;
  /// The updates of a cut where slot s had done target[s] steps.
  uint64_t updates_at(const std::vector<uint64_t>& target) const;
  /// The training samples of this run up to that cut.
  uint64_t samples_at(const std::vector<uint64_t>& target) const;
  double epoch() const;
  uint64_t samples() const;          ///< training samples of this run
  uint64_t clock_lag() const;        ///< fastest minus slowest live slot
  uint64_t slowest_live_clock() const; ///< UINT64_MAX when none is live
  double mean_loss() const;          ///< of the recent steps; 0 before any
  double blocked_seconds() const;

  // -- training time -----------------------------------------------------------
  void start_training(clock_type::time_point now);
  void pause(clock_type::duration d);  ///< evaluation time is not training time
  void end_training(clock_type::time_point now);
  bool training_ended() const { return ended_; }
  double training_seconds(clock_type::time_point now) const;
  double samples_per_second(clock_type::time_point now) const;

  // -- the schedule --------------------------------------------------------------
  struct due {
    bool evaluate = false;
    bool checkpoint = false;
  };
  /// What the updates so far make due (each epoch end and every eval_every updates an
  /// evaluation; every checkpoint_every a checkpoint); each is answered once.
  due take_due();

  // -- shard statistics ---------------------------------------------------------
  void note_stats(size_t shard, const shard_stats& s);
  /// Shard j restarts without its statistics: keep what its last instance reported.
  void retire_shard(size_t shard);
  shard_stats totals() const;        ///< over every shard, whole run
  uint64_t max_clock_gap() const { return totals().max_clock_gap; }

  // -- the loss audit ----------------------------------------------------------
  /// Per shard: steps workers were answered for (acked) whose gradient the shard's final
  /// state does not hold (its applied counts grew by less from `initial` to `final`).
  std::vector<uint64_t> lost_per_shard(const std::vector<shard_state>& initial,
                                       const std::vector<shard_state>& final) const;

  const settings& config() const { return settings_; }

private:
  settings settings_;
  std::vector<slot> slots_;
  uint64_t steps_ = 0;                ///< steps done in this run, all slots
  std::deque<float> recent_;
  double recent_sum_ = 0;
  clock_type::time_point started_{}, ended_at_{};
  clock_type::duration paused_{0};
  bool ended_ = false;
  uint64_t next_eval_ = 0, next_checkpoint_ = 0;
  std::vector<shard_stats> current_, carried_;
};

/// Adds b into a: sums the counts and the histogram, keeps the maxima.
void add_stats(shard_stats& a, const shard_stats& b);

} // namespace tether
