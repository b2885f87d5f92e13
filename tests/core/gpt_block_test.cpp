#include "core/gpt_block.hpp"

#include "tests/core/finite_difference.hpp"

#include <doctest/doctest.h>

using namespace tether;
using tether::testing::dot;
using tether::testing::fd_tolerance;
using tether::testing::max_relative_error;
using tether::testing::random_values;

TEST_CASE("block: backward through both branches matches finite differences (double)") {
  const block_shape s{2, 4, 2, 6, 10, 5}; // batch, seq < context, heads, C, mlp, context
  const size_t c = s.channels, rows = s.rows();
  // One vector holds the block's tensors in layout order.
  const size_t sizes[] = {c, c, 3 * c * c, c * c, c, c, s.mlp * c, c * s.mlp};
  size_t total = 0;
  for (auto n : sizes)
    total += n;
  auto params = random_values(total, 1, 0.5);
  for (size_t i = 0; i < c; ++i) { // gains near 1
    params[i] += 1.0;
    params[c + c + 3 * c * c + c * c + i] += 1.0;
  }
  auto views = [&](auto* base) {
    using P = std::remove_pointer_t<decltype(base)>;
    P* p[8];
    size_t at = 0;
    for (int i = 0; i < 8; ++i) {
      p[i] = base + at;
      at += sizes[i];
    }
    return block_tensors<P>{p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]};
  };
  auto x = random_values(rows * c, 2);
  const auto r = random_values(rows * c, 3);
  block_activations<double> acts;
  acts.resize(s);
  block_scratch<double> scratch;
  scratch.resize(s);
  std::vector<double> y(rows * c);
  auto loss = [&] {
    block_forward(views(static_cast<const double*>(params.data())), s, x.data(), acts, y.data());
    return dot(y, r);
  };
  loss();
  std::vector<double> grad(total, 0.0);
  std::vector<double> dx = r;
  block_backward(views(static_cast<const double*>(params.data())), s, x.data(), acts, dx.data(),
                 views(grad.data()), scratch);
  CHECK(max_relative_error(x, dx, loss) <= fd_tolerance);
  CHECK(max_relative_error(params, grad, loss) <= fd_tolerance);
}
