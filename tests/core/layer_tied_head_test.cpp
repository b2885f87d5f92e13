#include "core/layer_tied_head.hpp"

#include "tests/core/finite_difference.hpp"

#include <doctest/doctest.h>

#include <cmath>

using namespace tether;
using namespace tether::layers;
using tether::testing::fd_tolerance;
using tether::testing::max_relative_error;
using tether::testing::random_values;

namespace {

const size_t c = 4, batch = 2, seq = 3, stride = 4, vocab = 256;
const uint8_t targets[] = {1, 2, 3, 255, 9, 2, 2, 0}; // read at stride 4, 3 per row

} // namespace

TEST_CASE("tied head: cross-entropy equals logsumexp minus the target logit") {
  std::vector<float> logits(vocab, 0.0f);
  logits[7] = 2.0f;
  const uint8_t target = 7;
  const double loss = cross_entropy(logits.data(), &target, 1, 1, 1, vocab, true, 1.0f);
  const double want = std::log(255.0 + std::exp(2.0)) - 2.0;
  CHECK(loss == doctest::Approx(want).epsilon(1e-6));
  double sum = 0; // the gradient softmax - onehot sums to zero
  for (float g : logits)
    sum += g;
  CHECK(sum == doctest::Approx(0.0).epsilon(1e-6));
  CHECK(logits[7] < 0.0f);
}

TEST_CASE("tied head: backward matches finite differences for x and the shared weight") {
  const size_t rows = batch * seq;
  auto x = random_values(rows * c, 1);
  auto wte = random_values(vocab * c, 2);
  std::vector<double> logits(rows * vocab);
  auto loss = [&] {
    tied_head_logits(x.data(), wte.data(), rows, c, vocab, logits.data());
    return cross_entropy(logits.data(), targets + 1, stride, batch, seq, vocab, false, 1.0);
  };
  tied_head_logits(x.data(), wte.data(), rows, c, vocab, logits.data());
  cross_entropy(logits.data(), targets + 1, stride, batch, seq, vocab, true, 1.0);
  std::vector<double> dx(rows * c);
  std::vector<double> dwte(vocab * c, 0.5); // accumulates onto what the embedding added
  tied_head_backward(logits.data(), x.data(), wte.data(), rows, c, vocab, dx.data(), dwte.data());
  for (auto& g : dwte)
    g -= 0.5;
  CHECK(max_relative_error(x, dx, loss) <= fd_tolerance);
  CHECK(max_relative_error(wte, dwte, loss) <= fd_tolerance);
}
