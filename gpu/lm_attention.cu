#include "gpu/lm_attention.hpp"

#include "gpu/check.hpp"

#include <cmath>

// cuBLAS is column-major: a row-major r x c array is, to it, the c x r matrix of its
// transpose with leading dimension c. Each call below is written in that view.

namespace tether::gpu {

namespace {

constexpr unsigned full_mask = 0xffffffffu;
constexpr int warp = 32;
constexpr unsigned threads = 256;

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

// Row i (of seq) of each seq x seq block: softmax over j <= i of scale * s, 0 above.
__global__ void causal_softmax_kernel(float* p, size_t seq, size_t rows, float scale) {
  const size_t row = (blockIdx.x * size_t{blockDim.x} + threadIdx.x) / warp;
  const int lane = threadIdx.x % warp;
  if (row >= rows)
    return;
  const size_t i = row % seq;
  float* r = p + row * seq;
  float m = -INFINITY;
  for (size_t j = lane; j <= i; j += warp)
    m = fmaxf(m, r[j]);
  m = warp_max(m);
  float sum = 0;
  for (size_t j = lane; j <= i; j += warp) {
    const float e = expf((r[j] - m) * scale);
    r[j] = e;
    sum += e;
  }
  const float inv = 1.0f / warp_sum(sum);
  for (size_t j = lane; j < seq; j += warp)
    r[j] = j <= i ? r[j] * inv : 0.0f;
}

// dS = P * (dP - sum_j P dP) * scale, in place on dP; 0 above the diagonal.
__global__ void causal_softmax_backward_kernel(const float* __restrict__ p, float* dp, size_t seq,
                                               size_t rows, float scale) {
  const size_t row = (blockIdx.x * size_t{blockDim.x} + threadIdx.x) / warp;
  const int lane = threadIdx.x % warp;
  if (row >= rows)
    return;
  const size_t i = row % seq;
  const float* pr = p + row * seq;
  float* d = dp + row * seq;
  float dot = 0;
  for (size_t j = lane; j <= i; j += warp)
    dot += pr[j] * d[j];
  dot = warp_sum(dot);
  for (size_t j = lane; j < seq; j += warp)
    d[j] = j <= i ? pr[j] * (d[j] - dot) * scale : 0.0f;
}

unsigned warp_blocks(size_t rows) {
  const size_t per_block = threads / warp;
  return static_cast<unsigned>((rows + per_block - 1) / per_block);
}

int i32(size_t v) {
  return static_cast<int>(v);
}

long long i64(size_t v) {
  return static_cast<long long>(v);
}

} // namespace

status lm_linear_forward(cublasHandle_t cublas, const float* x, const float* w, size_t rows,
                         size_t in, size_t out, float* y) {
  if (rows == 0 || out == 0)
    return status::ok();
  const float one = 1.0f, zero = 0.0f;
  // y^T (out x rows) = W (out x in) x^T; W^T is what cuBLAS sees of w.
  TETHER_CUBLAS_TRY(cublasSgemm(cublas, CUBLAS_OP_T, CUBLAS_OP_N, i32(out), i32(rows), i32(in),
                                &one, w, i32(in), x, i32(in), &zero, y, i32(out)));
  return status::ok();
}

status lm_linear_backward(cublasHandle_t cublas, const float* dy, const float* x, const float* w,
                          size_t rows, size_t in, size_t out, float* dx, float* dw) {
  if (rows == 0 || out == 0 || in == 0)
    return status::ok();
  const float one = 1.0f, zero = 0.0f;
  if (dx != nullptr) // dx^T (in x rows) = W^T (in x out) dy^T (out x rows)
    TETHER_CUBLAS_TRY(cublasSgemm(cublas, CUBLAS_OP_N, CUBLAS_OP_N, i32(in), i32(rows), i32(out),
                                  &one, w, i32(in), dy, i32(out), &zero, dx, i32(in)));
  // dW^T (in x out) += x^T (in x rows) dy (rows x out)
  TETHER_CUBLAS_TRY(cublasSgemm(cublas, CUBLAS_OP_N, CUBLAS_OP_T, i32(in), i32(out), i32(rows),
                                &one, x, i32(in), dy, i32(out), &one, dw, i32(in)));
  return status::ok();
}

status lm_attention_forward(cublasHandle_t cublas, cudaStream_t stream, const float* qkv,
                            const layers::attention_shape& s, float* probs, float* out) {
  if (s.batch == 0 || s.seq == 0)
    return status::ok();
  const size_t c = s.channels, d = c / s.heads, ld = 3 * c, t = s.seq;
  const float one = 1.0f, zero = 0.0f;
  for (size_t b = 0; b < s.batch; ++b) { // the heads of one sequence in one batched call
    const float* q = qkv + b * t * ld;
    const float* k = q + c;
    float* p = probs + b * s.heads * t * t;
    // S^T (t x t, column-major) = K Q^T: raw scores, row-major S[i][j] = q_i . k_j
    TETHER_CUBLAS_TRY(cublasSgemmStridedBatched(
        cublas, CUBLAS_OP_T, CUBLAS_OP_N, i32(t), i32(t), i32(d), &one, k, i32(ld), i64(d), q,
        i32(ld), i64(d), &zero, p, i32(t), i64(t * t), i32(s.heads)));
  }
  const size_t rows = s.batch * s.heads * t;
  causal_softmax_kernel<<<warp_blocks(rows), threads, 0, stream>>>(
      probs, t, rows, 1.0f / std::sqrt(static_cast<float>(d)));
  TETHER_STATUS_TRY(launch_status("causal_softmax_kernel"));
  for (size_t b = 0; b < s.batch; ++b) {
    const float* v = qkv + b * t * ld + 2 * c;
    const float* p = probs + b * s.heads * t * t;
    // out_h^T (d x t) = V^T (d x t) P^T (t x t)
    TETHER_CUBLAS_TRY(cublasSgemmStridedBatched(
        cublas, CUBLAS_OP_N, CUBLAS_OP_N, i32(d), i32(t), i32(t), &one, v, i32(ld), i64(d), p,
        i32(t), i64(t * t), &zero, out + b * t * c, i32(c), i64(d), i32(s.heads)));
  }
  return status::ok();
}

status lm_attention_backward(cublasHandle_t cublas, cudaStream_t stream, const float* dout,
                             const float* qkv, const float* probs, const layers::attention_shape& s,
                             float* dqkv, float* scratch) {
  if (s.batch == 0 || s.seq == 0)
    return status::ok();
  const size_t c = s.channels, d = c / s.heads, ld = 3 * c, t = s.seq;
  const float one = 1.0f, zero = 0.0f;
  for (size_t b = 0; b < s.batch; ++b) {
    const float* v = qkv + b * t * ld + 2 * c;
    const float* p = probs + b * s.heads * t * t;
    const float* dob = dout + b * t * c;
    float* dp = scratch + b * s.heads * t * t;
    // dP^T = V dO^T (row-major dP = dO V^T)
    TETHER_CUBLAS_TRY(cublasSgemmStridedBatched(
        cublas, CUBLAS_OP_T, CUBLAS_OP_N, i32(t), i32(t), i32(d), &one, v, i32(ld), i64(d), dob,
        i32(c), i64(d), &zero, dp, i32(t), i64(t * t), i32(s.heads)));
    // dV^T (d x t) = dO^T P (row-major dV = P^T dO)
    TETHER_CUBLAS_TRY(cublasSgemmStridedBatched(
        cublas, CUBLAS_OP_N, CUBLAS_OP_T, i32(d), i32(t), i32(t), &one, dob, i32(c), i64(d), p,
        i32(t), i64(t * t), &zero, dqkv + b * t * ld + 2 * c, i32(ld), i64(d), i32(s.heads)));
  }
  const size_t rows = s.batch * s.heads * t;
  causal_softmax_backward_kernel<<<warp_blocks(rows), threads, 0, stream>>>(
      probs, scratch, t, rows, 1.0f / std::sqrt(static_cast<float>(d)));
  TETHER_STATUS_TRY(launch_status("causal_softmax_backward_kernel"));
  for (size_t b = 0; b < s.batch; ++b) {
    const float* q = qkv + b * t * ld;
    const float* k = q + c;
    const float* ds = scratch + b * s.heads * t * t;
    float* dq = dqkv + b * t * ld;
    // dQ^T (d x t) = K^T dS^T (row-major dQ = dS K)
    TETHER_CUBLAS_TRY(cublasSgemmStridedBatched(
        cublas, CUBLAS_OP_N, CUBLAS_OP_N, i32(d), i32(t), i32(t), &one, k, i32(ld), i64(d), ds,
        i32(t), i64(t * t), &zero, dq, i32(ld), i64(d), i32(s.heads)));
    // dK^T (d x t) = Q^T dS (row-major dK = dS^T Q)
    TETHER_CUBLAS_TRY(cublasSgemmStridedBatched(
        cublas, CUBLAS_OP_N, CUBLAS_OP_T, i32(d), i32(t), i32(t), &one, q, i32(ld), i64(d), ds,
        i32(t), i64(t * t), &zero, dq + c, i32(ld), i64(d), i32(s.heads)));
  }
  return status::ok();
}

} // namespace tether::gpu
