// The order in which an epoch visits the training samples, cut into batches.
//
// Epoch e is a permutation P_e of [0, count) drawn from (seed, e); its batch i is
// P_e[i*b, (i+1)*b), for i < count / b (the samples after the last full batch are left
// out of that epoch: at most b - 1, different ones each epoch). Who trains on which batch
// is decided elsewhere (ps/work_dispatcher.hpp hands batches out as tickets (e, i)). The
// order is reproducible from the seed alone (splitmix64 and Fisher-Yates written out in
// sampler.cpp: the same on every platform and library).
//
// indices() caches the latest epoch's permutation, so a batch_order is not thread-safe:
// give each worker its own (they agree, being built from the same seed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tether {

class batch_order {
public:
  /// Requires batch >= 1 and count >= batch (and count < 2^32).
  batch_order(size_t count, size_t batch, uint64_t seed);

  /// Batches per epoch: count / batch.
  size_t batches_per_epoch() const { return batches_; }
  size_t batch() const { return batch_; }

  /// The sample indices of batch `index` (< batches_per_epoch()) of epoch `epoch`. Size
  /// batch(); valid until the next call with another epoch.
  std::span<const uint32_t> indices(size_t epoch, size_t index);

  /// The permutation of epoch `epoch` (for tests).
  std::vector<uint32_t> permutation(size_t epoch) const;

private:
  size_t count_, batch_, batches_;
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
