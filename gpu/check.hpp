// CUDA and cuBLAS return codes turned into tether::status (core/status.hpp).
//
// Every CUDA runtime and cuBLAS call in gpu/ goes through one of these; nothing in gpu/
// exits or aborts. A failure is errc::internal with a message that names the call and the
// error, e.g. "cudaMalloc(&ptr, bytes) failed: cudaErrorMemoryAllocation (out of memory)".
// Kernel launches are followed by launch_status(), which reads cudaGetLastError().
// Errors from a kernel that faults while running show up at the next synchronizing call
// (context::synchronize, gpu_model::finish); CUDA makes such errors sticky for the process.
#pragma once

#include "core/status.hpp"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

namespace tether::gpu {

/// ok for cudaSuccess; otherwise errc::internal naming `call` and the error. A failed call
/// also leaves its error as the thread's "last error"; it is read off here (cudaGetLastError)
/// so that a later launch_status does not report it again. Sticky errors (a faulted
/// context) stay whatever is done.
inline status cuda_status(cudaError_t err, const char* call) {
  if (err == cudaSuccess)
    return status::ok();
  (void)cudaGetLastError();
  return status{errc::internal, std::string{call} + " failed: " + cudaGetErrorName(err) + " (" +
                                    cudaGetErrorString(err) + ")"};
}

/// ok for CUBLAS_STATUS_SUCCESS; otherwise errc::internal naming `call` and the status.
inline status cublas_status(cublasStatus_t st, const char* call) {
  if (st == CUBLAS_STATUS_SUCCESS)
    return status::ok();
  return status{errc::internal, std::string{call} + " failed: " + cublasGetStatusName(st) + " (" +
                                    cublasGetStatusString(st) + ")"};
}

/// The launch of kernel `name` just before: cudaGetLastError() (which also clears a
/// non-sticky error such as a bad launch configuration).
inline status launch_status(const char* name) {
  const cudaError_t err = cudaGetLastError();
  if (err == cudaSuccess)
    return status::ok();
  return status{errc::internal, std::string{"launch of kernel "} + name + " failed: " +
                                    cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")"};
}

} // namespace tether::gpu

/// Returns the failed status of a CUDA runtime call from the enclosing function (which
/// returns status or result<T>).
#define TETHER_CUDA_TRY(call)                                                                      \
  do {                                                                                             \
    if (auto tether_st_ = ::tether::gpu::cuda_status((call), #call); !tether_st_)                  \
      return tether_st_;                                                                           \
  } while (0)

/// The same for a cuBLAS call.
#define TETHER_CUBLAS_TRY(call)                                                                    \
  do {                                                                                             \
    if (auto tether_st_ = ::tether::gpu::cublas_status((call), #call); !tether_st_)                \
      return tether_st_;                                                                           \
  } while (0)

/// The same for a call that already returns a tether::status.
#define TETHER_STATUS_TRY(expr)                                                                    \
  do {                                                                                             \
    if (auto tether_st_ = (expr); !tether_st_)                                                     \
      return tether_st_;                                                                           \
  } while (0)
