// The parameter shard's logic without the actor: one key range of the flat vector,
// its optimizer, its version and each worker's applied clock.
//
// Contract: apply() applies each (worker, clock) at most once. A worker's clock c is
// the number of gradients it pushed before this one; applied_clocks()[w] is the
// number of w's gradients applied, so a push with clock < applied_clocks()[w] is a
// duplicate (a retry after a timeout or a failover) and is skipped. A push with a
// larger clock than expected is applied: after a restore from a checkpoint the gap
// is the updates that checkpoint did not hold.
// Staleness tau of an applied gradient = version before applying - base_version:
// how many updates landed between the worker's read and this apply.
// Thread-safety: none; the shard actor owns it.
#pragma once

#include "core/layout.hpp"
#include "core/optimizer.hpp"
#include "core/status.hpp"
#include "messages/types.hpp"

#include <cstdint>
#include <vector>

namespace tether {

struct staleness_stats {
  uint64_t applied = 0;      ///< gradients applied
  uint64_t duplicates = 0;   ///< pushes skipped as already applied
  double tau_sum = 0;        ///< sum of tau over applied gradients
  uint64_t tau_max = 0;
};

class shard_core {
public:
  /// A fresh shard: `params` is its slice of the initial vector.
  shard_core(uint32_t index, key_range range, std::vector<float> params, optimizer_config cfg,
             uint32_t workers);

  /// A shard restored from a snapshot (checkpoint or hand-over). Checks the sizes.
  static result<shard_core> restore(shard_state state, optimizer_config cfg, uint32_t workers);

  /// Applies one gradient exactly once. Errors (a gradient for another range, or of the
  /// wrong size, or from an unknown worker) are errc::invalid_argument.
  result<bool> apply(const push_request& push);

  param_slice slice() const;
  /// The same as slice(), reusing `buffer`'s memory (the applied push's gradient), so
  /// that a push+pull allocates nothing in steady state.
  param_slice slice_into(std::vector<float> buffer) const;
  shard_state snapshot() const;

  uint32_t index() const { return index_; }
  key_range range() const { return range_; }
  uint64_t version() const { return version_; }
  const std::vector<uint64_t>& applied_clocks() const { return applied_; }
  const staleness_stats& stats() const { return stats_; }

private:
  uint32_t index_;
  key_range range_;
  std::vector<float> params_;
  range_optimizer optimizer_;
  uint64_t version_ = 0;
  std::vector<uint64_t> applied_;
  staleness_stats stats_;
};

} // namespace tether
