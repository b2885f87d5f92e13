// gpu/context.hpp: device, stream, cuBLAS handle and math mode.
#include "gpu/context.hpp"

#include "gpu_test_support.hpp"

using namespace tether;
using namespace tether::gpu;

// Host-only: runs without a device too.
TEST_CASE("parse_gpu_math takes fp32 and tf32 and lists both otherwise") {
  CHECK(parse_gpu_math("fp32").value() == gpu_math::fp32);
  CHECK(parse_gpu_math("tf32").value() == gpu_math::tf32);
  CHECK(std::string{to_string(gpu_math::tf32)} == "tf32");
  for (const char* bad : {"", "FP32", "fp16", "tf32 "}) {
    auto r = parse_gpu_math(bad);
    REQUIRE(!r.is_ok());
    CHECK(r.error().code() == errc::invalid_argument);
    CHECK(r.error().message().find("fp32") != std::string::npos);
    CHECK(r.error().message().find("tf32") != std::string::npos);
  }
}

TEST_CASE("context: a non-blocking stream and a handle bound to it, in the asked math mode") {
  TETHER_GPU_REQUIRE_DEVICE();
  for (auto math : {gpu_math::fp32, gpu_math::tf32}) {
    auto ctx = test::make_context(math);
    CHECK(ctx->device() == 0);
    CHECK(ctx->math() == math);
    REQUIRE(ctx->stream() != nullptr);
    REQUIRE(ctx->cublas() != nullptr);
    unsigned flags = 0;
    REQUIRE(cudaStreamGetFlags(ctx->stream(), &flags) == cudaSuccess);
    CHECK(flags == cudaStreamNonBlocking);
    cudaStream_t bound = nullptr;
    REQUIRE(cublasGetStream(ctx->cublas(), &bound) == CUBLAS_STATUS_SUCCESS);
    CHECK(bound == ctx->stream());
    cublasMath_t mode{};
    REQUIRE(cublasGetMathMode(ctx->cublas(), &mode) == CUBLAS_STATUS_SUCCESS);
    CHECK(mode == (math == gpu_math::tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    CHECK(ctx->activate().is_ok());
    CHECK(ctx->synchronize().is_ok());
  }
}

TEST_CASE("context: a device index that is not visible is refused with its number") {
  TETHER_GPU_REQUIRE_DEVICE();
  const int count = devices().count;
  for (int device : {-1, count}) {
    auto r = context::create(device, gpu_math::fp32);
    REQUIRE(!r.is_ok());
    CHECK(r.error().code() == errc::invalid_argument);
    CHECK(r.error().message().find("CUDA device " + std::to_string(device)) != std::string::npos);
  }
}
