#include "core/blas.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

using namespace tether;

namespace {

// Reference: C = alpha * op(A) * op(B) + beta * C in double, row-major.
std::vector<float> naive_gemm(bool ta, bool tb, size_t m, size_t n, size_t k, float alpha,
                              const std::vector<float>& a, const std::vector<float>& b, float beta,
                              std::vector<float> c) {
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      double sum = 0;
      for (size_t p = 0; p < k; ++p) {
        double av = ta ? a[p * m + i] : a[i * k + p];
        double bv = tb ? b[j * k + p] : b[p * n + j];
        sum += av * bv;
      }
      c[i * n + j] = static_cast<float>(alpha * sum + beta * c[i * n + j]);
    }
  return c;
}

std::vector<float> random_vector(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v)
    x = u(rng);
  return v;
}

} // namespace

TEST_CASE("gemm matches a naive triple loop for every transpose combination") {
  use_single_threaded_blas();
  std::mt19937 rng(42);
  struct shape {
    size_t m, n, k;
  };
  for (auto [m, n, k] : {shape{1, 1, 1}, shape{3, 5, 7}, shape{17, 4, 33}, shape{64, 10, 128}}) {
    for (int combo = 0; combo < 4; ++combo) {
      const bool ta = combo & 1;
      const bool tb = combo & 2;
      CAPTURE(m);
      CAPTURE(n);
      CAPTURE(k);
      CAPTURE(ta);
      CAPTURE(tb);
      auto a = random_vector(m * k, rng);
      auto b = random_vector(k * n, rng);
      auto c = random_vector(m * n, rng);
      for (auto [alpha, beta] : {std::pair{1.0f, 0.0f}, std::pair{0.5f, -2.0f}}) {
        auto want = naive_gemm(ta, tb, m, n, k, alpha, a, b, beta, c);
        auto got = c;
        gemm(ta, tb, m, n, k, alpha, a.data(), b.data(), beta, got.data());
        size_t bad = 0;
        for (size_t i = 0; i < m * n; ++i) {
          const float tol = 1e-5f + 1e-5f * std::fabs(want[i]) * static_cast<float>(k);
          if (std::fabs(got[i] - want[i]) > tol && ++bad <= 3)
            std::printf("mismatch at %zu: got %g want %g\n", i, got[i], want[i]);
        }
        CHECK(bad == 0);
      }
    }
  }
}

TEST_CASE("gemm with beta 0 ignores what C held, even NaN") {
  std::vector<float> a{1, 2}, b{3, 4}, c{NAN};
  gemm(false, true, 1, 1, 2, 1.0f, a.data(), b.data(), 0.0f, c.data());
  CHECK(c[0] == 11.0f);
}
