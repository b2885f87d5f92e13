// The language model's own CUDA kernels (core/layer_*.hpp are their CPU references):
// embedding gather and scatter-add, LayerNorm forward and backward, GELU forward and
// backward, and the tied head's softmax cross-entropy over the 256 byte values. The
// attention core and the linear layers (cuBLAS) are in gpu/lm_attention.hpp.
//
// Layouts are those of core/: row-major, rows = batch * seq positions (row b * seq + t).
// Common contract (as gpu/kernels.hpp): every pointer is device memory; each function only
// enqueues work on `stream` and returns the launch status (gpu/check.hpp); sizes of 0
// enqueue nothing. The calling thread must have the stream's device current. Accumulating
// outputs (marked +=) must hold their earlier value; nothing is zeroed here.
// Never run on a device yet: tests/gpu/lm_kernels_test.cpp compares each kernel with its
// CPU reference where a GPU is present and is skipped elsewhere.
#pragma once

#include "core/status.hpp"

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace tether::gpu {

/// out[b*seq + t, :] = wte[tokens[b*stride + t], :] + wpe[t, :]  (layers::embedding_forward)
status lm_embedding_forward(const uint8_t* tokens, size_t stride, size_t batch, size_t seq,
                            const float* wte, const float* wpe, size_t channels, float* out,
                            cudaStream_t stream);

/// dwte[token] += dout row, dwpe[t] += dout row (atomic adds: repeated bytes add up).
status lm_embedding_backward(const uint8_t* tokens, size_t stride, size_t batch, size_t seq,
                             const float* dout, size_t channels, float* dwte, float* dwpe,
                             cudaStream_t stream);

/// LayerNorm of each row (eps 1e-5); writes out, mean[rows] and rstd[rows]. One warp a row.
status lm_layer_norm_forward(const float* x, const float* gain, const float* bias, size_t rows,
                             size_t channels, float* out, float* mean, float* rstd,
                             cudaStream_t stream);

/// dx += (one warp a row); dgain += and dbias += (one thread a channel, over all rows).
status lm_layer_norm_backward(const float* dout, const float* x, const float* gain,
                              const float* mean, const float* rstd, size_t rows, size_t channels,
                              float* dx, float* dgain, float* dbias, cudaStream_t stream);

/// y = gelu(x), tanh form (core/fast_math.hpp), n elements.
status lm_gelu_forward(const float* x, size_t n, float* y, cudaStream_t stream);

/// dx = dy * gelu'(x); dx may be dy.
status lm_gelu_backward(const float* x, const float* dy, size_t n, float* dx, cudaStream_t stream);

/// Softmax cross-entropy of logits (rows x 256) against target bytes read like the
/// embedding's tokens (targets + b * stride + t). loss_sum += the summed loss (double,
/// the caller zeroes it); when `gradient`, logits are overwritten with scale * (softmax -
/// onehot). One warp a row.
status lm_cross_entropy(float* logits, const uint8_t* targets, size_t stride, size_t batch,
                        size_t seq, bool gradient, float scale, double* loss_sum,
                        cudaStream_t stream);

} // namespace tether::gpu
