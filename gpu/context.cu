#include "gpu/context.hpp"

#include "gpu/check.hpp"

#include <utility>

namespace tether::gpu {

result<gpu_math> parse_gpu_math(const std::string& text) {
  if (text == "fp32")
    return gpu_math::fp32;
  if (text == "tf32")
    return gpu_math::tf32;
  return status{errc::invalid_argument,
                "GPU math \"" + text +
                    "\" is not known; expected fp32 (full float32 products) or tf32 "
                    "(Tensor Core products with TF32 inputs, faster, about 1e-3 relative error)"};
}

const char* to_string(gpu_math math) {
  return math == gpu_math::tf32 ? "tf32" : "fp32";
}

result<std::unique_ptr<context>> context::create(int device, gpu_math math) {
  int count = 0;
  TETHER_CUDA_TRY(cudaGetDeviceCount(&count));
  if (device < 0 || device >= count)
    return status{errc::invalid_argument, "CUDA device " + std::to_string(device) +
                                              " is not visible (" + std::to_string(count) +
                                              " device" + (count == 1 ? "" : "s") +
                                              ", numbered from 0; CUDA_VISIBLE_DEVICES applies)"};
  std::unique_ptr<context> ctx{new context(device, math)};
  TETHER_CUDA_TRY(cudaSetDevice(device));
  // Non-blocking: the stream does not wait for work on the legacy default stream, which
  // other libraries in the process might use.
  TETHER_CUDA_TRY(cudaStreamCreateWithFlags(&ctx->stream_, cudaStreamNonBlocking));
  TETHER_CUBLAS_TRY(cublasCreate(&ctx->cublas_));
  TETHER_CUBLAS_TRY(cublasSetStream(ctx->cublas_, ctx->stream_));
  // Scalars (alpha, beta) are passed from host memory.
  TETHER_CUBLAS_TRY(cublasSetPointerMode(ctx->cublas_, CUBLAS_POINTER_MODE_HOST));
  const cublasMath_t mode =
      math == gpu_math::tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH;
  TETHER_CUBLAS_TRY(cublasSetMathMode(ctx->cublas_, mode));
  return result<std::unique_ptr<context>>{std::move(ctx)}; // nvcc: no implicit move here
}

context::~context() {
  // Errors cannot be reported from here; the calls are made anyway so that nothing leaks.
  // A context that failed half way through create() has null members for what was not made.
  if (cudaSetDevice(device_) != cudaSuccess)
    return;
  if (stream_ != nullptr)
    cudaStreamSynchronize(stream_);
  if (cublas_ != nullptr)
    cublasDestroy(cublas_);
  if (stream_ != nullptr)
    cudaStreamDestroy(stream_);
}

status context::activate() const {
  TETHER_CUDA_TRY(cudaSetDevice(device_));
  return status::ok();
}

status context::synchronize() const {
  TETHER_CUDA_TRY(cudaStreamSynchronize(stream_));
  return status::ok();
}

} // namespace tether::gpu
