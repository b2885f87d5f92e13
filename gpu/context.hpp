// One CUDA device, one stream on it and one cuBLAS handle bound to that stream.
//
// Ownership: a context owns its stream and handle and destroys them (in that order:
// handle, then stream) in its destructor; it does not own the device, which other
// contexts may share. Everything that gpu/ enqueues for a context goes on its stream, so
// work of one context runs in order and work of two contexts may overlap.
//
// Threads: a context is used by one thread at a time, but that thread may change between
// calls (a CAF worker may move between scheduler threads). CUDA's "current device" is per
// thread, so every entry point of gpu/ that allocates, launches or copies calls activate()
// first; code outside gpu/ that uses stream() or cublas() directly must do the same.
//
// Math: gpu_math::fp32 sets CUBLAS_DEFAULT_MATH: full fp32 products (cuBLAS never uses
// TF32 for fp32 data in this mode; the Tensor Cores are used only where that keeps fp32
// precision). It is not CUBLAS_PEDANTIC_MATH, which also forbids some faster fp32 paths
// (it is meant for numerical studies); results may differ from the CPU's in the order of
// summation only. gpu_math::tf32 sets CUBLAS_TF32_TENSOR_OP_MATH: fp32 data, products on
// the Tensor Cores with inputs rounded to TF32 (10-bit mantissa), fp32 accumulation;
// expect relative errors near 1e-3.
#pragma once

#include "core/status.hpp"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <memory>
#include <string>

namespace tether::gpu {

enum class gpu_math { fp32, tf32 };

/// "fp32" or "tf32" (the --gpu-math values); anything else is errc::invalid_argument
/// with a message listing both.
result<gpu_math> parse_gpu_math(const std::string& text);

/// "fp32" or "tf32".
const char* to_string(gpu_math math);

class context {
public:
  /// Makes device `device` current, creates a non-blocking stream on it and a cuBLAS
  /// handle bound to that stream with the math mode of `math`. Fails with
  /// errc::invalid_argument when the device index is not visible, errc::internal when a
  /// CUDA or cuBLAS call fails (the message names it).
  static result<std::unique_ptr<context>> create(int device, gpu_math math);

  context(const context&) = delete;
  context& operator=(const context&) = delete;
  /// Waits for the stream (errors ignored), then destroys the handle and the stream.
  ~context();

  int device() const { return device_; }
  gpu_math math() const { return math_; }
  cudaStream_t stream() const { return stream_; }
  cublasHandle_t cublas() const { return cublas_; }

  /// cudaSetDevice(device()) for the calling thread.
  status activate() const;

  /// Waits until everything enqueued on stream() has finished; reports an error raised by
  /// that work (a kernel fault, a failed copy).
  status synchronize() const;

private:
  context(int device, gpu_math math) : device_(device), math_(math) {}

  int device_ = 0;
  gpu_math math_ = gpu_math::fp32;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
};

} // namespace tether::gpu
