#include "core/layer_norm.hpp"

#include "tests/core/finite_difference.hpp"

#include <doctest/doctest.h>

using namespace tether;
using namespace tether::layers;
using tether::testing::dot;
using tether::testing::fd_tolerance;
using tether::testing::max_relative_error;
using tether::testing::random_values;

TEST_CASE("layer norm: zero mean, unit variance, then gain and bias") {
  const std::vector<float> x{1, 2, 3, 4, 100, 100, 100, 104};
  const std::vector<float> gain{1, 1, 2, 1}, bias{0, 0, 0, 0.5f};
  std::vector<float> out(8), mean(2), rstd(2);
  layer_norm_forward(x.data(), gain.data(), bias.data(), 2, 4, out.data(), mean.data(),
                     rstd.data());
  CHECK(mean[0] == doctest::Approx(2.5));
  CHECK(rstd[0] == doctest::Approx(1 / std::sqrt(1.25 + 1e-5)));
  CHECK(out[0] == doctest::Approx(-1.5 * rstd[0]));
  CHECK(out[2] == doctest::Approx(2 * 0.5 * rstd[0]));
  CHECK(mean[1] == doctest::Approx(101));
  CHECK(out[7] == doctest::Approx(3 * rstd[1] + 0.5));
}

TEST_CASE("layer norm: backward matches finite differences (double), dx accumulates") {
  const size_t rows = 4, c = 6;
  auto x = random_values(rows * c, 1, 2.0);
  auto gain = random_values(c, 2);
  auto bias = random_values(c, 3);
  const auto r = random_values(rows * c, 4);
  std::vector<double> out(rows * c), mean(rows), rstd(rows);
  auto loss = [&] {
    layer_norm_forward(x.data(), gain.data(), bias.data(), rows, c, out.data(), mean.data(),
                       rstd.data());
    return dot(out, r);
  };
  loss();
  const std::vector<double> carried(rows * c, 0.25); // what already flows around the layer
  std::vector<double> dx = carried, dgain(c, 0.0), dbias(c, 0.0);
  layer_norm_backward(r.data(), x.data(), gain.data(), mean.data(), rstd.data(), rows, c, dx.data(),
                      dgain.data(), dbias.data());
  for (size_t i = 0; i < dx.size(); ++i)
    dx[i] -= carried[i];
  CHECK(max_relative_error(x, dx, loss) <= fd_tolerance);
  CHECK(max_relative_error(gain, dgain, loss) <= fd_tolerance);
  CHECK(max_relative_error(bias, dbias, loss) <= fd_tolerance);
}
