// The language model's matrix products on the GPU: linear layers without bias and the
// causal multi-head attention core, cuBLAS for every product (core/layer_linear.hpp and
// core/layer_attention.hpp are the CPU references; the layouts are theirs, row-major).
//
// Contract as gpu/lm_kernels.hpp: device pointers, work only enqueued; `cublas` must be
// bound to `stream` (gpu::context does that) and in the math mode the caller wants (fp32
// or tf32). Every cuBLAS call and kernel launch is checked; the first failure is returned.
// Never run on a device yet (tests/gpu/lm_attention_test.cpp skips without one).
#pragma once

#include "core/layer_attention.hpp"
#include "core/status.hpp"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>

namespace tether::gpu {

/// y (rows x out) = x (rows x in) W^T, W out x in.
status lm_linear_forward(cublasHandle_t cublas, const float* x, const float* w, size_t rows,
                         size_t in, size_t out, float* y);

/// dx = dy W (overwritten; skipped when dx is null), dW += dy^T x.
status lm_linear_backward(cublasHandle_t cublas, const float* dy, const float* x, const float* w,
                          size_t rows, size_t in, size_t out, float* dx, float* dw);

/// out (rows x C) from qkv (rows x 3C); probs (batch x heads x seq x seq) keeps the
/// softmax for the backward pass.
status lm_attention_forward(cublasHandle_t cublas, cudaStream_t stream, const float* qkv,
                            const layers::attention_shape& shape, float* probs, float* out);

/// dqkv (rows x 3C) overwritten; scratch holds batch x heads x seq x seq floats.
status lm_attention_backward(cublasHandle_t cublas, cudaStream_t stream, const float* dout,
                             const float* qkv, const float* probs,
                             const layers::attention_shape& shape, float* dqkv, float* scratch);

} // namespace tether::gpu
