#include "gpu/lm_kernels.hpp"

#include "gpu/check.hpp"

#include <algorithm>

namespace tether::gpu {

namespace {

constexpr unsigned full_mask = 0xffffffffu;
constexpr int warp = 32;
constexpr unsigned threads = 256;
constexpr float ln_eps = 1e-5f;

unsigned blocks_for(size_t n, unsigned per_block) {
  return static_cast<unsigned>(std::min<size_t>((n + per_block - 1) / per_block, 65535));
}

__device__ float warp_sum(float v) {
  for (int off = warp / 2; off > 0; off /= 2)
    v += __shfl_xor_sync(full_mask, v, off);
  return v;
}

__device__ float warp_max(float v) {
  for (int off = warp / 2; off > 0; off /= 2)
    v = fmaxf(v, __shfl_xor_sync(full_mask, v, off));
  return v;
}

__device__ float gelu_sigmoid(float x) { // sigmoid(2u) of the tanh form
  const float u = 0.7978845608028654f * (x + 0.044715f * x * x * x);
  return 1.0f / (1.0f + expf(-2.0f * u));
}

// ---- embedding: one thread per (row, channel) -------------------------------------------
__global__ void embedding_forward_kernel(const uint8_t* __restrict__ tokens, size_t stride,
                                         size_t seq, size_t rows, const float* __restrict__ wte,
                                         const float* __restrict__ wpe, size_t c,
                                         float* __restrict__ out) {
  for (size_t i = blockIdx.x * size_t{blockDim.x} + threadIdx.x; i < rows * c;
       i += size_t{gridDim.x} * blockDim.x) {
    const size_t r = i / c, ch = i % c, b = r / seq, t = r % seq;
    out[i] = wte[size_t{tokens[b * stride + t]} * c + ch] + wpe[t * c + ch];
  }
}

__global__ void embedding_backward_kernel(const uint8_t* __restrict__ tokens, size_t stride,
                                          size_t seq, size_t rows, const float* __restrict__ dout,
                                          size_t c, float* dwte, float* dwpe) {
  for (size_t i = blockIdx.x * size_t{blockDim.x} + threadIdx.x; i < rows * c;
       i += size_t{gridDim.x} * blockDim.x) {
    const size_t r = i / c, ch = i % c, b = r / seq, t = r % seq;
    atomicAdd(dwte + size_t{tokens[b * stride + t]} * c + ch, dout[i]);
    atomicAdd(dwpe + t * c + ch, dout[i]);
  }
}

// ---- LayerNorm: one warp per row ----------------------------------------------------------
__global__ void layer_norm_forward_kernel(const float* __restrict__ x,
                                          const float* __restrict__ gain,
                                          const float* __restrict__ bias, size_t rows, size_t c,
                                          float* __restrict__ out, float* __restrict__ mean,
                                          float* __restrict__ rstd) {
  const size_t row = (blockIdx.x * size_t{blockDim.x} + threadIdx.x) / warp;
  const int lane = threadIdx.x % warp;
  if (row >= rows)
    return;
  const float* xr = x + row * c;
  float sum = 0;
  for (size_t i = lane; i < c; i += warp)
    sum += xr[i];
  const float m = warp_sum(sum) / static_cast<float>(c);
  float var = 0;
  for (size_t i = lane; i < c; i += warp)
    var += (xr[i] - m) * (xr[i] - m);
  const float s = rsqrtf(warp_sum(var) / static_cast<float>(c) + ln_eps);
  for (size_t i = lane; i < c; i += warp)
    out[row * c + i] = (xr[i] - m) * s * gain[i] + bias[i];
  if (lane == 0) {
    mean[row] = m;
    rstd[row] = s;
  }
}

__global__ void layer_norm_backward_dx_kernel(const float* __restrict__ dout,
                                              const float* __restrict__ x,
                                              const float* __restrict__ gain,
                                              const float* __restrict__ mean,
                                              const float* __restrict__ rstd, size_t rows, size_t c,
                                              float* __restrict__ dx) {
  const size_t row = (blockIdx.x * size_t{blockDim.x} + threadIdx.x) / warp;
  const int lane = threadIdx.x % warp;
  if (row >= rows)
    return;
  const float* d = dout + row * c;
  const float* xr = x + row * c;
  const float m = mean[row], s = rstd[row];
  float sum_g = 0, sum_gh = 0;
  for (size_t i = lane; i < c; i += warp) {
    const float g = d[i] * gain[i];
    sum_g += g;
    sum_gh += g * (xr[i] - m) * s;
  }
  const float mean_g = warp_sum(sum_g) / static_cast<float>(c);
  const float mean_gh = warp_sum(sum_gh) / static_cast<float>(c);
  for (size_t i = lane; i < c; i += warp)
    dx[row * c + i] += s * (d[i] * gain[i] - mean_g - (xr[i] - m) * s * mean_gh);
}

__global__ void layer_norm_backward_params_kernel(const float* __restrict__ dout,
                                                  const float* __restrict__ x,
                                                  const float* __restrict__ mean,
                                                  const float* __restrict__ rstd, size_t rows,
                                                  size_t c, float* dgain, float* dbias) {
  const size_t ch = blockIdx.x * size_t{blockDim.x} + threadIdx.x;
  if (ch >= c)
    return;
  float g = 0, b = 0;
  for (size_t r = 0; r < rows; ++r) { // consecutive threads read consecutive channels
    const float d = dout[r * c + ch];
    g += d * (x[r * c + ch] - mean[r]) * rstd[r];
    b += d;
  }
  dgain[ch] += g;
  dbias[ch] += b;
}

// ---- GELU ----------------------------------------------------------------------------------
__global__ void gelu_forward_kernel(const float* __restrict__ x, size_t n, float* __restrict__ y) {
  for (size_t i = blockIdx.x * size_t{blockDim.x} + threadIdx.x; i < n;
       i += size_t{gridDim.x} * blockDim.x)
    y[i] = x[i] * gelu_sigmoid(x[i]);
}

__global__ void gelu_backward_kernel(const float* __restrict__ x, const float* dy, size_t n,
                                     float* dx) {
  for (size_t i = blockIdx.x * size_t{blockDim.x} + threadIdx.x; i < n;
       i += size_t{gridDim.x} * blockDim.x) {
    const float v = x[i];
    const float s = gelu_sigmoid(v);
    const float du = 0.7978845608028654f * (1.0f + 3.0f * 0.044715f * v * v);
    dx[i] = dy[i] * (s + v * 2.0f * s * (1.0f - s) * du);
  }
}

// ---- cross-entropy over 256 bytes: one warp per row --------------------------------------
__global__ void cross_entropy_kernel(float* logits, const uint8_t* __restrict__ targets,
                                     size_t stride, size_t seq, size_t rows, bool gradient,
                                     float scale, double* loss_sum) {
  constexpr int vocab = 256;
  const size_t row = (blockIdx.x * size_t{blockDim.x} + threadIdx.x) / warp;
  const int lane = threadIdx.x % warp;
  if (row >= rows)
    return;
  float* z = logits + row * vocab;
  const int target = targets[(row / seq) * stride + row % seq];
  float m = -INFINITY;
  for (int v = lane; v < vocab; v += warp)
    m = fmaxf(m, z[v]);
  m = warp_max(m);
  float sum = 0;
  for (int v = lane; v < vocab; v += warp)
    sum += expf(z[v] - m);
  sum = warp_sum(sum);
  const float z_target = z[target]; // read before the gradient overwrites it
  __syncwarp();
  if (gradient) {
    const float f = scale / sum;
    for (int v = lane; v < vocab; v += warp)
      z[v] = expf(z[v] - m) * f - (v == target ? scale : 0.0f);
  }
  if (lane == 0)
    atomicAdd(loss_sum, static_cast<double>(logf(sum)) - static_cast<double>(z_target - m));
}

} // namespace

status lm_embedding_forward(const uint8_t* tokens, size_t stride, size_t batch, size_t seq,
                            const float* wte, const float* wpe, size_t channels, float* out,
                            cudaStream_t stream) {
  const size_t n = batch * seq * channels;
  if (n == 0)
    return status::ok();
  embedding_forward_kernel<<<blocks_for(n, threads), threads, 0, stream>>>(
      tokens, stride, seq, batch * seq, wte, wpe, channels, out);
  return launch_status("embedding_forward_kernel");
}

status lm_embedding_backward(const uint8_t* tokens, size_t stride, size_t batch, size_t seq,
                             const float* dout, size_t channels, float* dwte, float* dwpe,
                             cudaStream_t stream) {
  const size_t n = batch * seq * channels;
  if (n == 0)
    return status::ok();
  embedding_backward_kernel<<<blocks_for(n, threads), threads, 0, stream>>>(
      tokens, stride, seq, batch * seq, dout, channels, dwte, dwpe);
  return launch_status("embedding_backward_kernel");
}

status lm_layer_norm_forward(const float* x, const float* gain, const float* bias, size_t rows,
                             size_t channels, float* out, float* mean, float* rstd,
                             cudaStream_t stream) {
  if (rows == 0 || channels == 0)
    return status::ok();
  const unsigned per_block = threads / warp; // rows per block
  layer_norm_forward_kernel<<<static_cast<unsigned>((rows + per_block - 1) / per_block), threads, 0,
                              stream>>>(x, gain, bias, rows, channels, out, mean, rstd);
  return launch_status("layer_norm_forward_kernel");
}

status lm_layer_norm_backward(const float* dout, const float* x, const float* gain,
                              const float* mean, const float* rstd, size_t rows, size_t channels,
                              float* dx, float* dgain, float* dbias, cudaStream_t stream) {
  if (rows == 0 || channels == 0)
    return status::ok();
  const unsigned per_block = threads / warp;
  layer_norm_backward_dx_kernel<<<static_cast<unsigned>((rows + per_block - 1) / per_block),
                                  threads, 0, stream>>>(dout, x, gain, mean, rstd, rows, channels,
                                                        dx);
  TETHER_STATUS_TRY(launch_status("layer_norm_backward_dx_kernel"));
  layer_norm_backward_params_kernel<<<blocks_for(channels, 128), 128, 0, stream>>>(
      dout, x, mean, rstd, rows, channels, dgain, dbias);
  return launch_status("layer_norm_backward_params_kernel");
}

status lm_gelu_forward(const float* x, size_t n, float* y, cudaStream_t stream) {
  if (n == 0)
    return status::ok();
  gelu_forward_kernel<<<blocks_for(n, threads), threads, 0, stream>>>(x, n, y);
  return launch_status("gelu_forward_kernel");
}

status lm_gelu_backward(const float* x, const float* dy, size_t n, float* dx, cudaStream_t stream) {
  if (n == 0)
    return status::ok();
  gelu_backward_kernel<<<blocks_for(n, threads), threads, 0, stream>>>(x, dy, n, dx);
  return launch_status("gelu_backward_kernel");
}

status lm_cross_entropy(float* logits, const uint8_t* targets, size_t stride, size_t batch,
                        size_t seq, bool gradient, float scale, double* loss_sum,
                        cudaStream_t stream) {
  const size_t rows = batch * seq;
  if (rows == 0)
    return status::ok();
  const unsigned per_block = threads / warp;
  cross_entropy_kernel<<<static_cast<unsigned>((rows + per_block - 1) / per_block), threads, 0,
                         stream>>>(logits, targets, stride, seq, rows, gradient, scale, loss_sum);
  return launch_status("cross_entropy_kernel");
}

} // namespace tether::gpu
