// The one door to BLAS. Row-major single-precision products through OpenBLAS.
//
// OpenBLAS starts one thread per core by default; several workers on two cores then
// oversubscribe them badly (3-10x slowdowns measured). use_single_threaded_blas()
// pins BLAS to the calling thread; cli/ and tests call it once at start.
#pragma once

#include <cstddef>
#include <string>

namespace tether {

/// C[m x n] = alpha * op(A) * op(B) + beta * C, all row-major.
/// op(A) is m x k (A is k x m when trans_a), op(B) is k x n (B is n x k when trans_b).
void gemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha, const float* a,
          const float* b, float beta, float* c);

/// The same product in double precision (cblas_dgemm): the language model's layers are
/// templated on the scalar type and their finite-difference tests run in double.
void gemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, double alpha, const double* a,
          const double* b, double beta, double* c);

/// The product on sub-matrices of larger row-major arrays: lda, ldb and ldc are the row
/// strides (in elements) of A, B and C as stored. The attention layer uses it to multiply
/// one head's columns of the packed q/k/v rows without copying them.
void gemm_strided(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
                  const float* a, size_t lda, const float* b, size_t ldb, float beta, float* c,
                  size_t ldc);
void gemm_strided(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, double alpha,
                  const double* a, size_t lda, const double* b, size_t ldb, double beta, double* c,
                  size_t ldc);

/// Makes every later BLAS call single-threaded (openblas_set_num_threads(1)).
void use_single_threaded_blas();

/// The kernel set OpenBLAS picked for this CPU when it was loaded (e.g. "SkylakeX",
/// "Haswell", "Prescott").
std::string blas_core_name();

/// OpenBLAS 0.3.21 (Debian 12) does not know newer CPUs (e.g. Sapphire Rapids, reported as
/// family 6 model 143 or 207) and falls back to its "Prescott" SSE3 kernels, which run the
/// language model's products 4-5 times slower than its AVX-512 ones. When that happened
/// on a CPU with AVX-512 (or AVX2 and FMA) and OPENBLAS_CORETYPE is not set, this returns
/// the OPENBLAS_CORETYPE value that fits ("SkylakeX" or "Haswell"); otherwise "". The
/// choice is made when the library loads, so the caller can only tell the user (or start
/// itself again with the variable set).
std::string blas_better_core();

/// For a program's main, first thing: when blas_better_core() names a better kernel set,
/// start this program again (same argv) with OPENBLAS_CORETYPE set to it. The variable
/// stops a second restart; when the restart cannot be made, the program goes on with the
/// slow kernels. Returns only in that case or when nothing is to be done.
void restart_with_better_blas(char** argv);

} // namespace tether
