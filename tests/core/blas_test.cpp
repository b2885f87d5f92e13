#include "core/blas.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
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

TEST_CASE("gemm in double and on strided sub-matrices") {
  // A is 2 x 3 inside a 2 x 5 array (columns 1..3); B^T is 2 x 3 inside a 2 x 4 array;
  // C is 2 x 2 inside a 2 x 3 array: C = A B with B = (B^T)^T.
  const std::vector<double> a{9, 1, 2, 3, 9, 9, 4, 5, 6, 9};
  const std::vector<double> bt{1, 0, -1, 9, 2, 1, 0, 9};
  std::vector<double> c(6, 7.0);
  gemm_strided(false, true, 2, 2, 3, 1.0, a.data() + 1, 5, bt.data(), 4, 0.0, c.data(), 3);
  CHECK(c[0] == 1 - 3);
  CHECK(c[1] == 2 + 2);
  CHECK(c[2] == 7.0); // outside the sub-matrix: untouched
  CHECK(c[3] == 4 - 6);
  CHECK(c[4] == 8 + 5);
  std::vector<float> af(a.begin(), a.end()), btf(bt.begin(), bt.end()), cf(6, 7.0f);
  gemm_strided(false, true, 2, 2, 3, 1.0f, af.data() + 1, 5, btf.data(), 4, 0.0f, cf.data(), 3);
  for (size_t i = 0; i < 6; ++i)
    CHECK(cf[i] == static_cast<float>(c[i]));
  // The packed double product: 2 x 3 times 3 x 1.
  const std::vector<double> m{1, 2, 3, 4, 5, 6}, v{1, 1, 1};
  std::vector<double> out(2);
  gemm(false, false, 2, 1, 3, 2.0, m.data(), v.data(), 0.0, out.data());
  CHECK(out[0] == 12.0);
  CHECK(out[1] == 30.0);
}

TEST_CASE("the OpenBLAS kernel set is named, and a better one is suggested only for Prescott") {
  const auto name = blas_core_name();
  CHECK_FALSE(name.empty());
  const auto better = blas_better_core();
  if (name != "Prescott" || std::getenv("OPENBLAS_CORETYPE") != nullptr)
    CHECK(better.empty());
  else
    MESSAGE("OpenBLAS fell back to Prescott kernels; OPENBLAS_CORETYPE=" << better << " fits");
}
