#include "gpu/kernels.hpp"

#include "gpu/check.hpp"

#include <algorithm>
#include <cfloat>
#include <climits>

namespace tether::gpu {

namespace {

constexpr unsigned full_mask = 0xffffffffu;
constexpr int warp_size = 32;

// Grid size for a grid-stride loop over n items with `threads` per block: enough blocks to
// fill an H100 many times over, never more than the items need.
unsigned blocks_for(size_t n, unsigned threads) {
  const size_t wanted = (n + threads - 1) / threads;
  return static_cast<unsigned>(std::min<size_t>(wanted, 8192));
}

__device__ float warp_sum(float v) {
  for (int off = warp_size / 2; off > 0; off /= 2)
    v += __shfl_xor_sync(full_mask, v, off);
  return v;
}

__device__ double warp_sum(double v) {
  for (int off = warp_size / 2; off > 0; off /= 2)
    v += __shfl_xor_sync(full_mask, v, off);
  return v;
}

// ---- gather ---------------------------------------------------------------------------
// grid (x: over width, y: over samples), block 128 x 1. Consecutive threads copy consecutive
// floats of one row: reads and writes are coalesced.
__global__ void gather_rows_kernel(const float* __restrict__ src, size_t width,
                                   const uint32_t* __restrict__ indices, size_t batch,
                                   float* __restrict__ out) {
  for (size_t r = blockIdx.y; r < batch; r += gridDim.y) {
    const float* row = src + static_cast<size_t>(indices[r]) * width;
    float* dst = out + r * width;
    for (size_t f = blockIdx.x * size_t{blockDim.x} + threadIdx.x; f < width;
         f += size_t{gridDim.x} * blockDim.x)
      dst[f] = row[f];
  }
}

// ---- bias + ReLU, ReLU backward: one thread per element, grid-stride --------------------
__global__ void add_bias_kernel(float* __restrict__ z, const float* __restrict__ bias, size_t width,
                                size_t n, bool relu) {
  for (size_t i = blockIdx.x * size_t{blockDim.x} + threadIdx.x; i < n;
       i += size_t{gridDim.x} * blockDim.x) {
    const float v = z[i] + bias[i % width];
    z[i] = relu ? fmaxf(v, 0.0f) : v;
  }
}

__global__ void relu_backward_kernel(float* __restrict__ delta, const float* __restrict__ act,
                                     size_t n) {
  for (size_t i = blockIdx.x * size_t{blockDim.x} + threadIdx.x; i < n;
       i += size_t{gridDim.x} * blockDim.x)
    if (!(act[i] > 0.0f))
      delta[i] = 0.0f;
}

// ---- softmax cross-entropy: one warp per sample -----------------------------------------
// block 128 = 4 warps = 4 samples; grid ceil(batch / 4). The logits of a sample are
// contiguous; lanes stride over them by 32. No __restrict__: delta may alias logits.
constexpr unsigned softmax_warps = 4;

__global__ void softmax_cross_entropy_kernel(const float* logits, const float* __restrict__ labels,
                                             int classes, size_t batch, float scale, float* delta,
                                             double* __restrict__ loss_sum,
                                             unsigned int* __restrict__ correct) {
  const int lane = static_cast<int>(threadIdx.x) % warp_size;
  const size_t r = size_t{blockIdx.x} * softmax_warps + threadIdx.x / warp_size;
  if (r >= batch)
    return; // the whole warp leaves together: r is the same for all its lanes
  const float* z = logits + r * static_cast<size_t>(classes);
  float* d = delta + r * static_cast<size_t>(classes);

  // Pass 1: the largest logit and its first index (ties go to the smaller index, as the
  // CPU's strict > scan from j = 0 does).
  float best = -FLT_MAX;
  int best_j = INT_MAX;
  for (int j = lane; j < classes; j += warp_size)
    if (z[j] > best || best_j == INT_MAX) {
      best = z[j];
      best_j = j;
    }
  for (int off = warp_size / 2; off > 0; off /= 2) {
    const float other = __shfl_xor_sync(full_mask, best, off);
    const int other_j = __shfl_xor_sync(full_mask, best_j, off);
    if (other_j != INT_MAX &&
        (best_j == INT_MAX || other > best || (other == best && other_j < best_j))) {
      best = other;
      best_j = other_j;
    }
  }
  const float label_f = labels[r];
  const bool label_ok = label_f >= 0.0f && label_f < static_cast<float>(classes);
  const int label = label_ok ? static_cast<int>(label_f) : -1;
  const float z_label = label_ok ? z[label] : 0.0f;

  // Pass 2: the sum of exp(z - max); every exponent is <= 0.
  float sum = 0.0f;
  for (int j = lane; j < classes; j += warp_size)
    sum += expf(z[j] - best);
  sum = warp_sum(sum);

  if (lane == 0) {
    const double loss =
        label_ok ? log(static_cast<double>(sum)) - static_cast<double>(z_label - best) : nan("");
    atomicAdd(loss_sum, loss);
    if (label_ok && best_j == label)
      atomicAdd(correct, 1u);
  }
  // Every lane has read all it needs from z before any lane writes d (which may be z).
  __syncwarp();

  // Pass 3: delta = softmax * scale - onehot * scale.
  const float f = scale / sum;
  for (int j = lane; j < classes; j += warp_size) {
    float v = expf(z[j] - best) * f;
    if (j == label)
      v -= scale;
    d[j] = v;
  }
}

// ---- squared error: grid-stride, block reduction, one atomic per block -------------------
constexpr unsigned reduce_threads = 256;

__global__ void squared_error_kernel(const float* h, const float* __restrict__ y, size_t batch,
                                     float scale, float* delta, double* __restrict__ loss_sum) {
  __shared__ double partial[reduce_threads / warp_size];
  double local = 0.0;
  for (size_t r = blockIdx.x * size_t{blockDim.x} + threadIdx.x; r < batch;
       r += size_t{gridDim.x} * blockDim.x) {
    const float err = h[r] - y[r];
    local += 0.5 * static_cast<double>(err) * static_cast<double>(err);
    delta[r] = err * scale; // same index as the read of h[r]: in place is safe
  }
  local = warp_sum(local);
  const unsigned warp = threadIdx.x / warp_size;
  const unsigned lane = threadIdx.x % warp_size;
  if (lane == 0)
    partial[warp] = local;
  __syncthreads();
  if (warp == 0) {
    local = lane < blockDim.x / warp_size ? partial[lane] : 0.0;
    local = warp_sum(local);
    if (lane == 0)
      atomicAdd(loss_sum, local);
  }
}

// ---- bias gradient: column sums of a sample-major block -----------------------------------
// block (32, 8): threadIdx.x picks the output o (coalesced across the warp), threadIdx.y
// strides over samples; the 8 partial sums are added in shared memory. grid ceil(width/32).
constexpr unsigned bias_cols = 32;
constexpr unsigned bias_rows = 8;

__global__ void bias_gradient_kernel(const float* __restrict__ delta, size_t width, size_t batch,
                                     float* __restrict__ grad) {
  __shared__ float partial[bias_rows][bias_cols + 1];
  const size_t o = size_t{blockIdx.x} * bias_cols + threadIdx.x;
  float sum = 0.0f;
  if (o < width)
    for (size_t r = threadIdx.y; r < batch; r += bias_rows)
      sum += delta[r * width + o];
  partial[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.y == 0 && o < width) {
    float total = 0.0f;
    for (unsigned k = 0; k < bias_rows; ++k)
      total += partial[k][threadIdx.x];
    grad[o] = total;
  }
}

} // namespace

status gather_rows(const float* src, size_t width, const uint32_t* indices, size_t batch,
                   float* out, cudaStream_t stream) {
  if (width == 0 || batch == 0)
    return status::ok();
  constexpr unsigned threads = 128;
  const dim3 grid{blocks_for(width, threads),
                  static_cast<unsigned>(std::min<size_t>(batch, 65535))};
  gather_rows_kernel<<<grid, threads, 0, stream>>>(src, width, indices, batch, out);
  return launch_status("gather_rows");
}

status add_bias(float* z, const float* bias, size_t width, size_t batch, bool relu,
                cudaStream_t stream) {
  const size_t n = width * batch;
  if (n == 0)
    return status::ok();
  constexpr unsigned threads = 256;
  add_bias_kernel<<<blocks_for(n, threads), threads, 0, stream>>>(z, bias, width, n, relu);
  return launch_status("add_bias");
}

status relu_backward(float* delta, const float* act, size_t n, cudaStream_t stream) {
  if (n == 0)
    return status::ok();
  constexpr unsigned threads = 256;
  relu_backward_kernel<<<blocks_for(n, threads), threads, 0, stream>>>(delta, act, n);
  return launch_status("relu_backward");
}

status softmax_cross_entropy(const float* logits, const float* labels, size_t classes, size_t batch,
                             float scale, float* delta, double* loss_sum, unsigned int* correct,
                             cudaStream_t stream) {
  if (classes == 0 || batch == 0)
    return status::ok();
  if (classes > static_cast<size_t>(INT_MAX))
    return status{errc::invalid_argument, "softmax_cross_entropy: too many classes"};
  const size_t blocks = (batch + softmax_warps - 1) / softmax_warps;
  if (blocks > static_cast<size_t>(INT_MAX))
    return status{errc::invalid_argument, "softmax_cross_entropy: batch too large"};
  softmax_cross_entropy_kernel<<<static_cast<unsigned>(blocks), softmax_warps * warp_size, 0,
                                 stream>>>(logits, labels, static_cast<int>(classes), batch, scale,
                                           delta, loss_sum, correct);
  return launch_status("softmax_cross_entropy");
}

status squared_error(const float* h, const float* y, size_t batch, float scale, float* delta,
                     double* loss_sum, cudaStream_t stream) {
  if (batch == 0)
    return status::ok();
  squared_error_kernel<<<blocks_for(batch, reduce_threads), reduce_threads, 0, stream>>>(
      h, y, batch, scale, delta, loss_sum);
  return launch_status("squared_error");
}

status bias_gradient(const float* delta, size_t width, size_t batch, float* grad,
                     cudaStream_t stream) {
  if (width == 0)
    return status::ok();
  if (batch == 0)
    return cuda_status(cudaMemsetAsync(grad, 0, width * sizeof(float), stream),
                       "cudaMemsetAsync(bias gradient of an empty batch)");
  const size_t blocks = (width + bias_cols - 1) / bias_cols;
  if (blocks > static_cast<size_t>(INT_MAX))
    return status{errc::invalid_argument, "bias_gradient: width too large"};
  bias_gradient_kernel<<<static_cast<unsigned>(blocks), dim3{bias_cols, bias_rows}, 0, stream>>>(
      delta, width, batch, grad);
  return launch_status("bias_gradient");
}

} // namespace tether::gpu
