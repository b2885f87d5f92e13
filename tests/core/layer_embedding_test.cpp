#include "core/layer_embedding.hpp"

#include "tests/core/finite_difference.hpp"

#include <doctest/doctest.h>

using namespace tether;
using namespace tether::layers;
using tether::testing::dot;
using tether::testing::fd_tolerance;
using tether::testing::max_relative_error;
using tether::testing::random_values;

TEST_CASE("embedding: token row plus position row, read with a stride") {
  const size_t c = 2;
  std::vector<float> wte(256 * c, 0.0f), wpe{10, 20, 30, 40};
  wte[65 * c] = 1;     // 'A'
  wte[66 * c + 1] = 2; // 'B'
  // Two sequences of 2 positions, stored 3 bytes apart (window + target byte).
  const uint8_t tokens[] = {'A', 'B', 'x', 'B', 'A', 'y'};
  std::vector<float> out(4 * c);
  embedding_forward(tokens, 3, 2, 2, wte.data(), wpe.data(), c, out.data());
  const std::vector<float> want{11, 20, 30, 42, 10, 22, 31, 40};
  for (size_t i = 0; i < want.size(); ++i)
    CHECK(out[i] == want[i]);
}

TEST_CASE("embedding: backward matches finite differences, repeated tokens add up") {
  const size_t c = 3, batch = 2, seq = 4, stride = 5;
  const uint8_t tokens[] = {7, 9, 7, 0, 1, 255, 7, 9, 9, 2};
  auto wte = random_values(256 * c, 1);
  auto wpe = random_values(seq * c, 2);
  const auto r = random_values(batch * seq * c, 3);
  std::vector<double> out(batch * seq * c);
  auto loss = [&] {
    embedding_forward(tokens, stride, batch, seq, wte.data(), wpe.data(), c, out.data());
    return dot(out, r);
  };
  std::vector<double> dwte(wte.size(), 0.0), dwpe(wpe.size(), 0.0);
  embedding_backward(tokens, stride, batch, seq, r.data(), c, dwte.data(), dwpe.data());
  CHECK(max_relative_error(wte, dwte, loss) <= fd_tolerance);
  CHECK(max_relative_error(wpe, dwpe, loss) <= fd_tolerance);
  CHECK(dwte[8 * c] == 0.0); // byte 8 is not in the batch
}
