#include "core/layer_gelu.hpp"

#include "tests/core/finite_difference.hpp"

#include <doctest/doctest.h>

#include <cmath>

using namespace tether;
using namespace tether::layers;
using tether::testing::dot;
using tether::testing::fd_tolerance;
using tether::testing::max_relative_error;
using tether::testing::random_values;

namespace {

double gelu_tanh(double x) {
  return 0.5 * x * (1 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
}

} // namespace

TEST_CASE("gelu: the tanh form, in float within 1e-6 relative of the formula") {
  std::vector<float> x;
  for (int i = -400; i <= 400; ++i)
    x.push_back(static_cast<float>(i) * 0.025f);
  x.push_back(-30.0f);
  x.push_back(30.0f);
  std::vector<float> y(x.size());
  gelu_forward(x.data(), x.size(), y.data());
  for (size_t i = 0; i < x.size(); ++i) {
    const double want = gelu_tanh(x[i]);
    CHECK(std::abs(y[i] - want) <= 1e-6 * std::abs(want) + 1e-12);
  }
  CHECK(y.back() == 30.0f);
}

TEST_CASE("gelu: backward matches finite differences (double), in place works") {
  auto x = random_values(64, 1, 4.0);
  const auto r = random_values(64, 2);
  std::vector<double> y(64);
  auto loss = [&] {
    gelu_forward(x.data(), x.size(), y.data());
    return dot(y, r);
  };
  std::vector<double> dx = r;
  gelu_backward(x.data(), dx.data(), x.size(), dx.data()); // dy and dx the same array
  CHECK(max_relative_error(x, dx, loss) <= fd_tolerance);
}
