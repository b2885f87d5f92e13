// Finite-difference checks in double precision for the language model's layers: the
// analytic gradient of a scalar loss against central differences, element by element.
#pragma once

#include "core/splitmix64.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

namespace tether::testing {

/// n values uniform in [-scale, scale), from a seed.
inline std::vector<double> random_values(size_t n, uint64_t seed, double scale = 1.0) {
  splitmix64 rng{seed};
  std::vector<double> v(n);
  for (auto& x : v)
    x = scale * (2.0 * rng.uniform() - 1.0);
  return v;
}

/// Largest |analytic - numeric| / max(|analytic|, |numeric|, floor) over the elements of
/// x, where numeric is the central difference (loss(x + h e_i) - loss(x - h e_i)) / 2h.
/// floor keeps elements whose true gradient is (near) zero from dividing by nothing.
inline double max_relative_error(std::vector<double>& x, const std::vector<double>& analytic,
                                 const std::function<double()>& loss, double h = 1e-5,
                                 double floor = 1e-6) {
  REQUIRE(x.size() == analytic.size());
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double keep = x[i];
    x[i] = keep + h;
    const double up = loss();
    x[i] = keep - h;
    const double down = loss();
    x[i] = keep;
    const double numeric = (up - down) / (2 * h);
    const double scale = std::max({std::abs(analytic[i]), std::abs(numeric), floor});
    worst = std::max(worst, std::abs(analytic[i] - numeric) / scale);
  }
  return worst;
}

/// sum_i a[i] * b[i]: the scalar loss sum(out * R) whose gradient with respect to out is R.
inline double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    s += a[i] * b[i];
  return s;
}

inline constexpr double fd_tolerance = 1e-4;

} // namespace tether::testing
