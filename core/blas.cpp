#include "core/blas.hpp"

#include <cblas.h>

namespace tether {

void gemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha, const float* a,
          const float* b, float beta, float* c) {
  if (m == 0 || n == 0)
    return;
  // Leading dimensions of the row-major operands as stored (not as used).
  const auto lda = static_cast<blasint>(trans_a ? m : k);
  const auto ldb = static_cast<blasint>(trans_b ? k : n);
  const auto ldc = static_cast<blasint>(n);
  if (k == 0) {
    // BLAS may reject or skip k == 0; the contract is C = beta * C.
    for (size_t i = 0; i < m * n; ++i)
      c[i] = beta == 0.0f ? 0.0f : beta * c[i];
    return;
  }
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, static_cast<blasint>(m), static_cast<blasint>(n),
              static_cast<blasint>(k), alpha, a, lda > 0 ? lda : 1, b, ldb > 0 ? ldb : 1, beta, c,
              ldc);
}

void use_single_threaded_blas() {
  openblas_set_num_threads(1);
}

} // namespace tether
