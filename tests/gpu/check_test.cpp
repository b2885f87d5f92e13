// gpu/check.hpp: CUDA and cuBLAS codes in words. These need no device (the runtime and
// cuBLAS name their codes without one), so they run everywhere the gpu tests are built.
#include "gpu/check.hpp"

#include <doctest/doctest.h>

using namespace tether;
using namespace tether::gpu;

namespace {

bool mentions(const std::string& message, const std::string& part) {
  return message.find(part) != std::string::npos;
}

status try_cuda(cudaError_t err) {
  TETHER_CUDA_TRY(err);
  return status::ok();
}

result<int> try_cublas(cublasStatus_t st) {
  TETHER_CUBLAS_TRY(st);
  return 7;
}

} // namespace

TEST_CASE("check: success is ok, an error names the call and the error") {
  CHECK(cuda_status(cudaSuccess, "cudaFree(p)").is_ok());
  CHECK(cublas_status(CUBLAS_STATUS_SUCCESS, "cublasCreate(&h)").is_ok());

  auto st = cuda_status(cudaErrorMemoryAllocation, "cudaMalloc(&p, 64)");
  CHECK(st.code() == errc::internal);
  CHECK(mentions(st.message(), "cudaMalloc(&p, 64)"));
  CHECK(mentions(st.message(), "cudaErrorMemoryAllocation"));

  auto bl = cublas_status(CUBLAS_STATUS_NOT_INITIALIZED, "cublasCreate(&h)");
  CHECK(bl.code() == errc::internal);
  CHECK(mentions(bl.message(), "cublasCreate(&h)"));
  CHECK(mentions(bl.message(), "CUBLAS_STATUS_NOT_INITIALIZED"));
}

TEST_CASE("check: the TRY macros return the failure from status and result functions") {
  CHECK(try_cuda(cudaSuccess).is_ok());
  auto st = try_cuda(cudaErrorInvalidValue);
  CHECK(st.code() == errc::internal);
  CHECK(mentions(st.message(), "err failed: cudaErrorInvalidValue"));
  CHECK(try_cublas(CUBLAS_STATUS_SUCCESS).value() == 7);
  auto r = try_cublas(CUBLAS_STATUS_INVALID_VALUE);
  REQUIRE(!r.is_ok());
  CHECK(mentions(r.error().message(), "CUBLAS_STATUS_INVALID_VALUE"));
}
