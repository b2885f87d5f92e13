// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and the same on every platform (unlike
// the standard library's distributions). The one source of tether's seeded draws: the data
// order (core/sampler.cpp), the initial weights (core/model.cpp), a worker's step jitter
// (actors/worker.cpp) and the fuzzers' mutations (tests/fuzz).
#pragma once

#include <cstdint>

namespace tether {

class splitmix64 {
public:
  explicit splitmix64(uint64_t state = 0) : state_(state) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  /// Uniform in [0, bound) without modulo bias; 0 when bound is 0.
  uint64_t below(uint64_t bound) {
    if (bound == 0)
      return 0;
    // Values under `threshold` would make the low residues more likely.
    uint64_t threshold = (0 - bound) % bound;
    for (;;) {
      uint64_t r = next();
      if (r >= threshold)
        return r % bound;
    }
  }

  /// Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  /// Uniform in [-1, 1).
  float symmetric() {
    return static_cast<float>(static_cast<double>(next() >> 11) * 0x1.0p-52 - 1.0);
  }

private:
  uint64_t state_;
};

} // namespace tether
