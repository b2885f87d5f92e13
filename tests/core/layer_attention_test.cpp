#include "core/layer_attention.hpp"

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

const attention_shape shape{2, 5, 2, 6}; // batch, seq, heads, channels (head dim 3)
const size_t rows = shape.batch * shape.seq;

} // namespace

TEST_CASE("attention: the first position attends only to itself, rows sum to 1") {
  auto qkv = random_values(rows * 3 * shape.channels, 1);
  std::vector<double> probs(shape.batch * shape.heads * shape.seq * shape.seq);
  std::vector<double> out(rows * shape.channels);
  attention_forward(qkv.data(), shape, probs.data(), out.data());
  const size_t c = shape.channels;
  for (size_t e = 0; e < c; ++e) // position 0 of sequence 0: its own value row
    CHECK(out[e] == doctest::Approx(qkv[2 * c + e]));
  for (size_t bh = 0; bh < shape.batch * shape.heads; ++bh)
    for (size_t i = 0; i < shape.seq; ++i) {
      double sum = 0;
      for (size_t j = 0; j < shape.seq; ++j) {
        const double p = probs[(bh * shape.seq + i) * shape.seq + j];
        if (j > i)
          CHECK(p == 0.0);
        sum += p;
      }
      CHECK(sum == doctest::Approx(1.0));
    }
}

TEST_CASE("attention: backward matches finite differences (double)") {
  auto qkv = random_values(rows * 3 * shape.channels, 2);
  const auto r = random_values(rows * shape.channels, 3);
  std::vector<double> probs(shape.batch * shape.heads * shape.seq * shape.seq);
  std::vector<double> out(rows * shape.channels);
  auto loss = [&] {
    attention_forward(qkv.data(), shape, probs.data(), out.data());
    return dot(out, r);
  };
  loss();
  std::vector<double> dqkv(qkv.size()), scratch(shape.seq * shape.seq);
  attention_backward(r.data(), qkv.data(), probs.data(), shape, dqkv.data(), scratch.data());
  CHECK(max_relative_error(qkv, dqkv, loss) <= fd_tolerance);
}

TEST_CASE("attention: causal mask, no gradient from a position to an earlier one") {
  // The loss reads only position 2 of each sequence: q, k, v of positions 3 and 4 must
  // get exactly zero gradient, and changing them must not move the output at 0..2.
  auto qkv = random_values(rows * 3 * shape.channels, 4);
  std::vector<double> r(rows * shape.channels, 0.0);
  for (size_t b = 0; b < shape.batch; ++b)
    for (size_t e = 0; e < shape.channels; ++e)
      r[(b * shape.seq + 2) * shape.channels + e] = 1.0 + static_cast<double>(e);
  std::vector<double> probs(shape.batch * shape.heads * shape.seq * shape.seq);
  std::vector<double> out(rows * shape.channels), dqkv(qkv.size()), scratch(shape.seq * shape.seq);
  attention_forward(qkv.data(), shape, probs.data(), out.data());
  attention_backward(r.data(), qkv.data(), probs.data(), shape, dqkv.data(), scratch.data());
  const size_t width = 3 * shape.channels;
  for (size_t b = 0; b < shape.batch; ++b)
    for (size_t t = 3; t < shape.seq; ++t)
      for (size_t e = 0; e < width; ++e)
        CHECK(dqkv[(b * shape.seq + t) * width + e] == 0.0);

  const auto before = out;
  for (size_t e = 0; e < width; ++e)
    qkv[(0 * shape.seq + 4) * width + e] += 10.0; // the last position of sequence 0
  attention_forward(qkv.data(), shape, probs.data(), out.data());
  for (size_t t = 0; t < 4; ++t)
    for (size_t e = 0; e < shape.channels; ++e)
      CHECK(out[t * shape.channels + e] == before[t * shape.channels + e]);
}

TEST_CASE("attention: float agrees with double") {
  const auto qkv = random_values(rows * 3 * shape.channels, 5, 2.0);
  std::vector<float> qkv_f(qkv.begin(), qkv.end());
  std::vector<double> probs(shape.batch * shape.heads * shape.seq * shape.seq),
      out(rows * shape.channels);
  std::vector<float> probs_f(probs.size()), out_f(out.size());
  attention_forward(qkv.data(), shape, probs.data(), out.data());
  attention_forward(qkv_f.data(), shape, probs_f.data(), out_f.data());
  for (size_t i = 0; i < out.size(); ++i)
    CHECK(out_f[i] == doctest::Approx(out[i]).epsilon(1e-5));
}

TEST_CASE("attention: the written-out causal products for head widths 32 and 64") {
  // Head widths 32 and 64 take the register-blocked loops; others go through BLAS.
  for (const attention_shape wide : {attention_shape{2, 5, 2, 64}, attention_shape{1, 4, 1, 64}}) {
    CAPTURE(wide.channels / wide.heads);
    const size_t n = wide.batch * wide.seq;
    auto qkv = random_values(n * 3 * wide.channels, 7);
    const auto r = random_values(n * wide.channels, 8);
    std::vector<double> probs(wide.batch * wide.heads * wide.seq * wide.seq);
    std::vector<double> out(n * wide.channels);
    auto loss = [&] {
      attention_forward(qkv.data(), wide, probs.data(), out.data());
      return dot(out, r);
    };
    loss();
    std::vector<double> dqkv(qkv.size()), scratch(wide.seq * wide.seq);
    attention_backward(r.data(), qkv.data(), probs.data(), wide, dqkv.data(), scratch.data());
    CHECK(max_relative_error(qkv, dqkv, loss) <= fd_tolerance);
    // float takes the same loops
    std::vector<float> qkv_f(qkv.begin(), qkv.end()), r_f(r.begin(), r.end());
    std::vector<float> probs_f(probs.size()), out_f(out.size()), dqkv_f(dqkv.size()),
        scratch_f(scratch.size());
    attention_forward(qkv_f.data(), wide, probs_f.data(), out_f.data());
    attention_backward(r_f.data(), qkv_f.data(), probs_f.data(), wide, dqkv_f.data(),
                       scratch_f.data());
    loss();
    for (size_t i = 0; i < out.size(); ++i)
      CHECK(out_f[i] == doctest::Approx(out[i]).epsilon(1e-4));
    for (size_t i = 0; i < dqkv.size(); ++i)
      CHECK(dqkv_f[i] == doctest::Approx(dqkv[i]).epsilon(1e-3).scale(1e-3));
  }
}
