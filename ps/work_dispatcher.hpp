// Which batches each worker slot trains on: the job's batches handed out as tickets.
//
// Epoch e's sample order is a seeded permutation (core/sampler.hpp); ticket (e, i) is the
// i-th run of `batch` samples of it. Tickets are bound to (slot, clock): the batch a slot
// computes at a clock is fixed once handed out, so a slot's replacement (a restart after a
// crash, a move) redoes exactly the batches its predecessor held, and the shards' exactly-
// once rule on (worker, clock) keeps every gradient applied at most once. A ticket goes to
// another slot only if it was never started (a retired slot's unstarted ones).
//
// Two ways to hand them out:
//
//   dynamic   (async, ssp) one queue per job: a slot gets the next ticket whenever its
//             own run low, so fast workers do more batches than slow ones. Every sample
//             once per epoch (the batch remainder, under `batch` samples, is left out of
//             that epoch). Epoch ends are soft: a fast worker may start epoch e + 1 while a
//             slow one finishes its last ticket of epoch e.
//   lockstep  (bsp) every slot does one ticket per clock and all slots move together. The
//             job is a series of segments, normally one per epoch, each with a fixed set of
//             slots: slot at position p of a segment of W slots, starting at clock s with
//             first ticket f, gets ticket f + (c - s) * W + p at clock c. So each round's
//             global batch depends on the seed and the slot count only, and W = 1 with
//             W x the batch would see the same samples. Membership changes (a slot added
//             or retired) take effect at the next segment, i.e. the next epoch.
//
// The job ends after `epochs` epochs, or after `limit` tickets (dynamic) or rounds
// (lockstep) when limit > 0. Plain data, no CAF; one owner (the supervisor), not
// thread-safe. Slots are numbered from 0; a slot id may be reused after it retired.
#pragma once

#include "messages/types.hpp"

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace tether {

class work_dispatcher {
public:
  struct settings {
    bool lockstep = false;
    uint64_t samples = 0;       ///< training samples
    uint32_t batch = 1;         ///< samples per ticket (per worker step)
    uint32_t epochs = 1;
    uint64_t limit = 0;         ///< dynamic: tickets; lockstep: rounds; 0: epochs decide
    uint32_t depth = 2;         ///< tickets a slot holds ahead (the one in hand included)
    uint32_t slot_capacity = 1; ///< slot ids are below this
  };

  /// Requires batch >= 1 and samples >= batch. `from`: continue from a checkpoint's
  /// position (nullptr: from the start).
  explicit work_dispatcher(settings s, const work_position* from = nullptr);

  /// Tickets per epoch in dynamic mode: samples / batch.
  uint64_t tickets_per_epoch() const { return settings_.samples / settings_.batch; }
  /// Rounds per epoch in lockstep mode with `slots` slots: samples / (slots x batch).
  uint64_t rounds_per_epoch(uint32_t slots) const;

  /// Starts slot `slot` at `clock` (its clock now: the number of steps it has done).
  /// Lockstep: a slot added while a segment runs joins at the next segment's first clock,
  /// which is returned (the caller starts the worker there); dynamic: returns `clock`.
  /// errc::invalid_argument when the slot is out of range or already active.
  uint64_t add_slot(uint32_t slot, uint64_t clock);

  /// The slot does no new work: dynamic, it keeps only the tickets it holds; lockstep, it
  /// leaves at the end of the current segment. Its unstarted tickets (clocks > `clock`,
  /// the clock it reported) go back to the queue.
  void retire(uint32_t slot, uint64_t clock);

  /// Tops the slot's tickets up to `depth` ahead of `clock` (the slot's reported clock:
  /// steps done) and answers what it holds from `clock` on. The grant's `last` says that
  /// no ticket will follow. Call after every report; a replacement gets its predecessor's
  /// tickets this way.
  work_grant grant(uint32_t slot, uint64_t clock);

  /// The slot reported `clock` steps done: tickets below are finished.
  void complete(uint32_t slot, uint64_t clock);

  /// The slot finished for good (its worker ended after its last ticket, or the job is
  /// stopping): nothing more is handed to it. Tickets it held and did not do stay
  /// pending in position_at().
  void finish(uint32_t slot);

  /// No ticket is left to hand out and every slot has finished.
  bool exhausted() const;
  /// Tickets (dynamic) or rounds (lockstep) the whole job will do from the start, as far
  /// as known now (lockstep with a membership change: the segments laid out so far plus
  /// the rest at today's slot count). For schedules (cosine horizon) and progress.
  uint64_t planned_updates() const;

  /// The position at a cut where slot s had done target[s] steps (lockstep: all equal).
  work_position position_at(const std::vector<uint64_t>& target) const;

  /// Active slots (added and not finished or retired).
  std::vector<uint32_t> active_slots() const;
  bool is_active(uint32_t slot) const;

private:
  struct segment {
    uint32_t epoch;
    uint64_t first_index;     ///< first ticket of the segment within its epoch
    uint64_t start_clock;
    uint64_t rounds;
    std::vector<uint32_t> slots;
  };
  enum class slot_state : uint8_t { idle, active, retiring, finished };
  struct slot_info {
    slot_state state = slot_state::idle;
    uint64_t first_clock = 0;                  ///< lockstep: the clock it starts at
    std::deque<std::pair<uint64_t, batch_ticket>> held; ///< dynamic: (clock, ticket)
  };

  std::optional<batch_ticket> take_dynamic();
  std::optional<batch_ticket> lockstep_ticket(uint32_t slot, uint64_t clock);
  bool lay_out_next_segment();
  uint64_t lockstep_end() const;

  settings settings_;
  std::vector<slot_info> slots_;
  // dynamic
  batch_ticket next_{};
  std::deque<batch_ticket> returned_;
  uint64_t handed_ = 0;       ///< tickets handed out in this job (limit)
  // lockstep
  std::vector<segment> segments_;
  bool laid_out_all_ = false; ///< no segment will follow the last one
  uint64_t resume_clock_ = 0;
};

} // namespace tether
