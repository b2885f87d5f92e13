// The one door to BLAS. Row-major single-precision products through OpenBLAS.
//
// OpenBLAS starts one thread per core by default; several workers on two cores then
// oversubscribe them badly (3-10x slowdowns measured). use_single_threaded_blas()
// pins BLAS to the calling thread; cli/ and tests call it once at start.
#pragma once

#include <cstddef>

namespace tether {

/// C[m x n] = alpha * op(A) * op(B) + beta * C, all row-major.
/// op(A) is m x k (A is k x m when trans_a), op(B) is k x n (B is n x k when trans_b).
void gemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
          const float* a, const float* b, float beta, float* c);

/// Makes every later BLAS call single-threaded (openblas_set_num_threads(1)).
void use_single_threaded_blas();

} // namespace tether
