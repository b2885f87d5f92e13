#include "core/fast_math.hpp"

#include <doctest/doctest.h>

#include <cmath>

using namespace tether;

TEST_CASE("fast exp: within 2e-7 relative of std::exp on [-87, 88], 0 below, clamped above") {
  double worst = 0;
  for (int i = -86990; i <= 87990; i += 7) { // inside the clamp, float steps aside
    const float x = static_cast<float>(i) * 0.001f;
    const double want = std::exp(static_cast<double>(x));
    worst = std::max(worst, std::abs(fast::exp(x) - want) / want);
  }
  CHECK(worst < 2e-7);
  CHECK(fast::exp(0.0f) == 1.0f);
  CHECK(fast::exp(-87.5f) == 0.0f); // no denormals
  CHECK(fast::exp(-1000.0f) == 0.0f);
  CHECK(std::isfinite(fast::exp(1000.0f)));
}
