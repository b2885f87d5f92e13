// The CUDA kernels of the forward/backward pass, as host functions that enqueue them.
//
// Layout: a batch of vectors is stored sample-major: element (sample r, feature f) of a
// batch x width block is at r * width + f, i.e. row-major batch x width as in
// core/dataset.hpp. To cuBLAS (column-major) that is a width x batch matrix with leading
// dimension width: one column per sample. gpu/gpu_model.cu writes its products in that view.
//
// Common contract: every pointer is device memory (except the stream); every function only
// enqueues work on `stream` (asynchronous; nothing waits) and returns the launch status
// (launch_status in gpu/check.hpp: a bad launch configuration shows up here, a fault while
// running shows up at the next synchronize). Sizes of 0 enqueue nothing and return ok.
// The calling thread must have the stream's device current (context::activate).
// Tested against plain CPU references in tests/gpu/kernels_test.cpp.
#pragma once

#include "core/status.hpp"

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace tether::gpu {

/// Gathers rows: out[r * width + f] = src[indices[r] * width + f] for r < batch, f < width.
///   src:     rows x width, row-major (e.g. the whole training set's x, or its y with width 1)
///   indices: batch row numbers, each < rows (not checked here: the caller validates them)
///   out:     batch x width; must not overlap src
status gather_rows(const float* src, size_t width, const uint32_t* indices, size_t batch,
                   float* out, cudaStream_t stream);

/// Bias, then optionally ReLU, in place on a sample-major batch x width block z:
///   z[r * width + o] = relu ? max(z + bias[o], 0) : z + bias[o]
///   bias: width floats
status add_bias(float* z, const float* bias, size_t width, size_t batch, bool relu,
                cudaStream_t stream);

/// ReLU backward, in place: delta[i] = act[i] > 0 ? delta[i] : 0 for i < n, where act is the
/// ReLU's output (so act > 0 exactly where its input was > 0).
status relu_backward(float* delta, const float* act, size_t n, cudaStream_t stream);

/// Softmax cross-entropy head over logits (sample-major batch x classes) and class labels.
///   labels[r]: the class index of sample r, stored as a float (core/dataset.hpp); it must be
///              an integer in [0, classes). An out-of-range label adds NaN to *loss_sum (so
///              the failure is visible) and nothing to *correct; gpu_model checks its labels
///              once, on the host, when it is created.
///   delta:     out, batch x classes: (softmax(z_r) - onehot(label_r)) * scale, where scale
///              is 1/batch for d(mean loss)/d(logits). delta may be the same memory as
///              logits (computed in place); otherwise they must not overlap.
///   loss_sum:  += sum_r (log sum_j exp(z_rj - max_r) - (z_r,label - max_r)) (in double)
///   correct:   += number of samples whose label is the first index of their largest logit
/// Numerically stable: the row maximum is subtracted before exp. The caller zeroes the
/// two scalars before the batch (cudaMemsetAsync). One warp per sample.
status softmax_cross_entropy(const float* logits, const float* labels, size_t classes, size_t batch,
                             float scale, float* delta, double* loss_sum, unsigned int* correct,
                             cudaStream_t stream);

/// Squared-error head of a one-output model: predictions h[batch], targets y[batch].
///   delta:    out, batch floats: (h[r] - y[r]) * scale (scale = 1/batch for the mean);
///             may be the same memory as h
///   loss_sum: += sum_r (h[r] - y[r])^2 / 2 (in double), so that the mean loss
///             J = 1/(2 batch) sum (h - y)^2 is *loss_sum / batch, as for the softmax head
status squared_error(const float* h, const float* y, size_t batch, float scale, float* delta,
                     double* loss_sum, cudaStream_t stream);

/// Bias gradient: grad[o] = sum_r delta[r * width + o] for o < width (delta sample-major
/// batch x width, already scaled by 1/batch); overwrites grad (width floats).
status bias_gradient(const float* delta, size_t width, size_t batch, float* grad,
                     cudaStream_t stream);

} // namespace tether::gpu
