#include "core/blas.hpp"

#include <cblas.h>

#include <cstdlib>
#include <unistd.h>

namespace tether {

namespace {

// One body for float and double: checks the degenerate shapes BLAS may reject, then
// calls the matching cblas routine.
template <class T, class Call>
void product(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, T alpha, const T* a,
             size_t lda, const T* b, size_t ldb, T beta, T* c, size_t ldc, Call call) {
  if (m == 0 || n == 0)
    return;
  if (k == 0) {
    // BLAS may reject or skip k == 0; the contract is C = beta * C.
    for (size_t i = 0; i < m; ++i)
      for (size_t j = 0; j < n; ++j)
        c[i * ldc + j] = beta == T(0) ? T(0) : beta * c[i * ldc + j];
    return;
  }
  auto dim = [](size_t v) { return static_cast<blasint>(v > 0 ? v : 1); };
  call(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
       static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
       dim(lda), b, dim(ldb), beta, c, dim(ldc));
}

} // namespace

void gemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha, const float* a,
          const float* b, float beta, float* c) {
  // Leading dimensions of the row-major operands as stored (not as used).
  product(trans_a, trans_b, m, n, k, alpha, a, trans_a ? m : k, b, trans_b ? k : n, beta, c, n,
          cblas_sgemm);
}

void gemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, double alpha, const double* a,
          const double* b, double beta, double* c) {
  product(trans_a, trans_b, m, n, k, alpha, a, trans_a ? m : k, b, trans_b ? k : n, beta, c, n,
          cblas_dgemm);
}

void gemm_strided(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
                  const float* a, size_t lda, const float* b, size_t ldb, float beta, float* c,
                  size_t ldc) {
  product(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, cblas_sgemm);
}

void gemm_strided(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, double alpha,
                  const double* a, size_t lda, const double* b, size_t ldb, double beta, double* c,
                  size_t ldc) {
  product(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, cblas_dgemm);
}

void use_single_threaded_blas() {
  openblas_set_num_threads(1);
}

std::string blas_core_name() {
  const char* name = openblas_get_corename();
  return name == nullptr ? std::string() : std::string(name);
}

std::string blas_better_core() {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr || blas_core_name() != "Prescott")
    return {};
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return "Haswell";
#endif
  return {};
}

void restart_with_better_blas(char** argv) {
  auto core = blas_better_core();
  if (core.empty())
    return;
  if (::setenv("OPENBLAS_CORETYPE", core.c_str(), 1) != 0)
    return;
  ::execv("/proc/self/exe", argv);
  ::unsetenv("OPENBLAS_CORETYPE"); // execv failed: this process keeps what it loaded
}

} // namespace tether
