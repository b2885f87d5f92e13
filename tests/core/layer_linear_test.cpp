#include "core/layer_linear.hpp"

#include "tests/core/finite_difference.hpp"

#include <doctest/doctest.h>

using namespace tether;
using namespace tether::layers;
using tether::testing::dot;
using tether::testing::fd_tolerance;
using tether::testing::max_relative_error;
using tether::testing::random_values;

TEST_CASE("linear: y = x W^T on a worked example") {
  const std::vector<float> x{1, 2, 3, 4, 5, 6};     // 2 rows x 3
  const std::vector<float> w{1, 0, -1, 0.5f, 1, 2}; // 2 out x 3 in
  std::vector<float> y(4);
  linear_forward(x.data(), w.data(), 2, 3, 2, y.data());
  CHECK(y[0] == doctest::Approx(1 - 3));
  CHECK(y[1] == doctest::Approx(0.5 + 2 + 6));
  CHECK(y[2] == doctest::Approx(4 - 6));
  CHECK(y[3] == doctest::Approx(2 + 5 + 12));
}

TEST_CASE("linear: backward matches finite differences (double)") {
  const size_t rows = 5, in = 4, out = 3;
  auto x = random_values(rows * in, 1);
  auto w = random_values(out * in, 2);
  const auto r = random_values(rows * out, 3); // loss = sum(y * r)
  std::vector<double> y(rows * out);
  auto loss = [&] {
    linear_forward(x.data(), w.data(), rows, in, out, y.data());
    return dot(y, r);
  };
  std::vector<double> dx(rows * in), dw(out * in, 0.0);
  linear_backward(r.data(), x.data(), w.data(), rows, in, out, dx.data(), dw.data());
  CHECK(max_relative_error(x, dx, loss) <= fd_tolerance);
  CHECK(max_relative_error(w, dw, loss) <= fd_tolerance);
}

TEST_CASE("linear: dW accumulates and a null dx is skipped") {
  const size_t rows = 3, in = 2, out = 2;
  const auto x = random_values(rows * in, 4);
  const auto w = random_values(out * in, 5);
  const auto dy = random_values(rows * out, 6);
  std::vector<double> once(out * in, 0.0), twice(out * in, 0.0);
  linear_backward(dy.data(), x.data(), w.data(), rows, in, out, static_cast<double*>(nullptr),
                  once.data());
  linear_backward(dy.data(), x.data(), w.data(), rows, in, out, static_cast<double*>(nullptr),
                  twice.data());
  linear_backward(dy.data(), x.data(), w.data(), rows, in, out, static_cast<double*>(nullptr),
                  twice.data());
  for (size_t i = 0; i < once.size(); ++i)
    CHECK(twice[i] == doctest::Approx(2 * once[i]));
}
