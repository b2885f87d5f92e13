// Which samples each worker trains on: a deterministic split of every epoch.
//
// Epoch e is a permutation P_e of [0, count) drawn from (seed, e). It is cut into
// global batches of workers * batch samples; worker i's k-th batch is slice i of
// global batch k: P_e[k*W*b + i*b, k*W*b + (i+1)*b). The samples after the last full
// global batch are dropped for that epoch (at most W*b - 1; they are different ones
// each epoch). So each worker owns its own partition of every epoch, no sample is seen
// twice in an epoch, and the order is reproducible from the seed alone (splitmix64 and
// Fisher-Yates written out in sampler.cpp: the same on every platform and library).
//
// batch_indices caches, so an epoch_sampler is not thread-safe: give each worker its
// own (they agree, being built from the same seed) or serialise the calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tether {

class epoch_sampler {
public:
  /// Requires workers >= 1, batch >= 1 and count >= workers * batch.
  epoch_sampler(size_t count, size_t workers, size_t batch, uint64_t seed);

  /// Batches each worker takes per epoch: count / (workers * batch).
  size_t steps_per_epoch() const { return steps_per_epoch_; }
  size_t batch() const { return batch_; }
  size_t workers() const { return workers_; }

  /// The sample indices of worker `worker`'s batch `step` (0-based within the epoch)
  /// of epoch `epoch` (0-based). Size batch(). Computes (and caches) the permutation
  /// of that epoch; the cache holds the most recent epoch only.
  std::span<const uint32_t> batch_indices(size_t epoch, size_t worker, size_t step);

  /// The permutation of epoch `epoch` (for tests).
  std::vector<uint32_t> permutation(size_t epoch) const;

private:
  size_t count_, workers_, batch_, steps_per_epoch_;
  uint64_t seed_;
  size_t cached_epoch_ = SIZE_MAX;
  std::vector<uint32_t> cached_;
};

/// Copies the rows `indices` of d.x and d.y into x_out (indices.size() x features)
/// and y_out (indices.size()), resizing both. Every index must be below d.count
/// (asserted).
struct dataset;
void gather_batch(const dataset& d, std::span<const uint32_t> indices, std::vector<float>& x_out,
                  std::vector<float>& y_out);

} // namespace tether
