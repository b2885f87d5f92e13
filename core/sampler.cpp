// The per-epoch permutation and its batches (see sampler.hpp).
//
// The random numbers come from splitmix64 and a rejection-sampled uniform draw, both
// written out here, so that an order depends on (seed, epoch) only and not on the
// standard library.
#include "core/sampler.hpp"

#include "core/splitmix64.hpp"

#include "core/dataset.hpp"

#include <cassert>
#include <cstring>
#include <limits>
#include <numeric>

namespace tether {

namespace {

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

} // namespace

batch_order::batch_order(size_t count, size_t batch, uint64_t seed)
    : count_(count), batch_(batch), batches_(0), seed_(seed) {
  assert(batch >= 1 && count >= batch);
  assert(count <= std::numeric_limits<uint32_t>::max());
  batches_ = count / batch;
}

std::vector<uint32_t> batch_order::permutation(size_t epoch) const {
  std::vector<uint32_t> p(count_);
  std::iota(p.begin(), p.end(), uint32_t{0});
  splitmix64 rng{mix64(seed_ ^ mix64(static_cast<uint64_t>(epoch) + 0x632be59bd9b4e019ULL))};
  // Fisher-Yates.
  for (size_t i = count_; i > 1; --i) {
    size_t j = static_cast<size_t>(rng.below(i));
    std::swap(p[i - 1], p[j]);
  }
  return p;
}

std::span<const uint32_t> batch_order::indices(size_t epoch, size_t index) {
  assert(index < batches_);
  if (epoch != cached_epoch_) {
    cached_ = permutation(epoch);
    cached_epoch_ = epoch;
  }
  return {cached_.data() + index * batch_, batch_};
}

void gather_batch(const dataset& d, std::span<const uint32_t> indices, std::vector<float>& x_out,
                  std::vector<float>& y_out) {
  const size_t f = d.features;
  x_out.resize(indices.size() * f);
  y_out.resize(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) {
    size_t row = indices[i];
    assert(row < d.count);
    std::memcpy(x_out.data() + i * f, d.x.data() + row * f, f * sizeof(float));
    y_out[i] = d.y[row];
  }
}

} // namespace tether
