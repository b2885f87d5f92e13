#include "gpu/gpu_model.hpp"

#include "gpu/check.hpp"
#include "gpu/kernels.hpp"

#include <climits>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>

namespace tether::gpu {

// ---- cuBLAS and the row-major parameter layout ---------------------------------------------
//
// cuBLAS is column-major. Our buffers, read column-major:
//   W_l   (row-major {n_out, n_in}, the layout's weight)  ->  n_in x n_out, ld n_in  (= W^T)
//   A_l   (sample-major batch x n_in, an activation)      ->  n_in x batch, ld n_in  (= A^T)
//   Z, D  (sample-major batch x n_out, output and delta)  ->  n_out x batch, ld n_out
// In the column view one sample is one column, and the layer is Z = W A + b (W as the
// mathematical n_out x n_in matrix). Hence:
//   forward   Z[n_out x batch]  = W * A     = op_T(Wc) * A        gemm(T, N, n_out, batch, n_in)
//   weight    dW^T[n_in x n_out] = A * D^T                        gemm(N, T, n_in, n_out, batch)
//             dW^T column-major with ld n_in is dW row-major {n_out, n_in}: the layout's order.
//   input     dA[n_in x batch]  = W^T * D   = Wc * D              gemm(N, N, n_in, batch, n_out)
// where Wc is the stored buffer (column-major W^T). D already carries the 1/batch of the mean
// (the head multiplies by scale = 1/batch), so alpha is 1 everywhere, as in core/model.cpp.

namespace {

constexpr float one = 1.0f;
constexpr float zero = 0.0f;

int as_int(size_t n) {
  return static_cast<int>(n); // sizes are checked against INT_MAX in create()
}

} // namespace

result<std::unique_ptr<gpu_model>> gpu_model::create(context& ctx, const model& net,
                                                     const dataset& train, size_t max_batch) {
  const auto& sizes = net.spec().sizes;
  if (max_batch == 0)
    return status{errc::invalid_argument, "gpu_model: the maximum batch must be at least 1"};
  if (train.features != net.inputs())
    return status{errc::mismatch, "gpu_model: the data has " + std::to_string(train.features) +
                                      " features but model " + net.spec().to_string() + " takes " +
                                      std::to_string(net.inputs()) + " inputs"};
  if (train.x.size() != train.count * train.features || train.y.size() != train.count)
    return status{errc::mismatch, "gpu_model: the dataset's arrays do not match its count"};
  for (size_t s : sizes)
    if (s * max_batch > static_cast<size_t>(INT_MAX) || max_batch > static_cast<size_t>(INT_MAX))
      return status{errc::invalid_argument, "gpu_model: layer width " + std::to_string(s) +
                                                " times batch " + std::to_string(max_batch) +
                                                " is too large for cuBLAS's int sizes"};
  if (net.head() == model_head::softmax_cross_entropy) {
    const auto classes = static_cast<float>(net.outputs());
    for (size_t i = 0; i < train.count; ++i) {
      const float y = train.y[i];
      if (!(y >= 0.0f && y < classes) || y != std::floor(y))
        return status{errc::mismatch, "gpu_model: label " + std::to_string(y) + " of sample " +
                                          std::to_string(i) + " is not a class index below " +
                                          std::to_string(net.outputs())};
    }
  }
  std::unique_ptr<gpu_model> m{new gpu_model(ctx, net, max_batch)};
  TETHER_STATUS_TRY(ctx.activate());
  TETHER_CUDA_TRY(cudaEventCreateWithFlags(&m->indices_copied_, cudaEventDisableTiming));
  TETHER_STATUS_TRY(m->allocate(train));
  return result<std::unique_ptr<gpu_model>>{std::move(m)}; // nvcc: no implicit move here
}

status gpu_model::allocate(const dataset& train) {
  const auto& sizes = net_.spec().sizes;
  const size_t layers = sizes.size() - 1;
  const size_t total = net_.layout().total;
  train_count_ = train.count;
  const auto where = [&](const char* what, size_t floats) {
    return std::string{"GPU "} + std::to_string(ctx_.device()) + ", " + what + " (" +
           std::to_string(floats * sizeof(float) >> 20) + " MiB)";
  };
  if (auto st = train_x_.resize(train.x.size()); !st)
    return status{st.code(), where("training set", train.x.size()) + ": " + st.message()};
  TETHER_STATUS_TRY(train_y_.resize(train.y.size()));
  TETHER_STATUS_TRY(params_.resize(total));
  TETHER_STATUS_TRY(grad_.resize(total));
  TETHER_STATUS_TRY(indices_.resize(max_batch_));
  TETHER_STATUS_TRY(batch_y_.resize(max_batch_));
  activations_.resize(layers + 1);
  deltas_.resize(layers + 1); // deltas_[0] stays empty: no gradient for the data
  for (size_t l = 0; l <= layers; ++l) {
    TETHER_STATUS_TRY(activations_[l].resize(sizes[l] * max_batch_));
    if (l > 0)
      TETHER_STATUS_TRY(deltas_[l].resize(sizes[l] * max_batch_));
  }
  TETHER_STATUS_TRY(loss_sum_.resize(1));
  TETHER_STATUS_TRY(correct_.resize(1));
  TETHER_STATUS_TRY(indices_host_.resize(max_batch_));
  TETHER_STATUS_TRY(loss_host_.resize(1));
  TETHER_STATUS_TRY(correct_host_.resize(1));
  *loss_host_.data() = 0;
  *correct_host_.data() = 0;
  // The training set, once. Synchronous copies from pageable memory: create() may wait.
  if (train.count > 0) {
    TETHER_CUDA_TRY(cudaMemcpy(train_x_.data(), train.x.data(), train.x.size() * sizeof(float),
                               cudaMemcpyHostToDevice));
    TETHER_CUDA_TRY(cudaMemcpy(train_y_.data(), train.y.data(), train.y.size() * sizeof(float),
                               cudaMemcpyHostToDevice));
  }
  return status::ok();
}

gpu_model::~gpu_model() {
  // Nothing may still read or write our memory when it is freed; errors cannot be reported.
  if (ctx_.activate())
    (void)ctx_.synchronize();
  if (indices_copied_ != nullptr)
    cudaEventDestroy(indices_copied_);
}

status gpu_model::upload_params(std::span<const float> host) {
  if (host.size() != net_.layout().total)
    return status{errc::invalid_argument, "upload_params: " + std::to_string(host.size()) +
                                              " floats for a model of " +
                                              std::to_string(net_.layout().total)};
  TETHER_STATUS_TRY(ctx_.activate());
  TETHER_CUDA_TRY(cudaMemcpyAsync(params_.data(), host.data(), host.size_bytes(),
                                  cudaMemcpyHostToDevice, ctx_.stream()));
  return status::ok();
}

status gpu_model::download_grad(std::span<float> host) {
  if (host.size() != net_.layout().total)
    return status{errc::invalid_argument, "download_grad: room for " + std::to_string(host.size()) +
                                              " floats for a model of " +
                                              std::to_string(net_.layout().total)};
  TETHER_STATUS_TRY(ctx_.activate());
  TETHER_CUDA_TRY(cudaMemcpyAsync(host.data(), grad_.data(), host.size_bytes(),
                                  cudaMemcpyDeviceToHost, ctx_.stream()));
  return status::ok();
}

status gpu_model::compute(std::span<const uint32_t> indices) {
  const size_t batch = indices.size();
  if (batch == 0 || batch > max_batch_)
    return status{errc::invalid_argument, "compute: a batch of " + std::to_string(batch) +
                                              " samples; this gpu_model takes 1 to " +
                                              std::to_string(max_batch_)};
  for (size_t r = 0; r < batch; ++r)
    if (indices[r] >= train_count_)
      return status{errc::invalid_argument, "compute: sample index " + std::to_string(indices[r]) +
                                                " is past the " + std::to_string(train_count_) +
                                                " training samples"};
  last_batch_ = 0; // set again once everything is enqueued
  TETHER_STATUS_TRY(ctx_.activate());
  cudaStream_t stream = ctx_.stream();
  // The staging buffer may still be the source of the previous compute's copy.
  TETHER_CUDA_TRY(cudaEventSynchronize(indices_copied_));
  std::memcpy(indices_host_.data(), indices.data(), indices.size_bytes());
  TETHER_CUDA_TRY(cudaMemcpyAsync(indices_.data(), indices_host_.data(), indices.size_bytes(),
                                  cudaMemcpyHostToDevice, stream));
  TETHER_CUDA_TRY(cudaEventRecord(indices_copied_, stream));
  TETHER_CUDA_TRY(cudaMemsetAsync(loss_sum_.data(), 0, sizeof(double), stream));
  TETHER_CUDA_TRY(cudaMemsetAsync(correct_.data(), 0, sizeof(unsigned int), stream));

  // A_0 = x[indices] (batch x inputs), and the batch's targets.
  TETHER_STATUS_TRY(gather_rows(train_x_.data(), net_.inputs(), indices_.data(), batch,
                                activations_[0].data(), stream));
  TETHER_STATUS_TRY(
      gather_rows(train_y_.data(), 1, indices_.data(), batch, batch_y_.data(), stream));
  TETHER_STATUS_TRY(forward(batch));

  // Head: the last layer's delta, scaled by 1/batch for the mean.
  const size_t layers = net_.spec().sizes.size() - 1;
  const float scale = 1.0f / static_cast<float>(batch);
  if (net_.head() == model_head::softmax_cross_entropy)
    TETHER_STATUS_TRY(softmax_cross_entropy(activations_[layers].data(), batch_y_.data(),
                                            net_.outputs(), batch, scale, deltas_[layers].data(),
                                            loss_sum_.data(), correct_.data(), stream));
  else
    TETHER_STATUS_TRY(squared_error(activations_[layers].data(), batch_y_.data(), batch, scale,
                                    deltas_[layers].data(), loss_sum_.data(), stream));
  TETHER_STATUS_TRY(backward(batch));

  TETHER_CUDA_TRY(cudaMemcpyAsync(loss_host_.data(), loss_sum_.data(), sizeof(double),
                                  cudaMemcpyDeviceToHost, stream));
  TETHER_CUDA_TRY(cudaMemcpyAsync(correct_host_.data(), correct_.data(), sizeof(unsigned int),
                                  cudaMemcpyDeviceToHost, stream));
  last_batch_ = batch;
  return status::ok();
}

status gpu_model::forward(size_t batch) {
  const auto& sizes = net_.spec().sizes;
  const size_t layers = sizes.size() - 1;
  for (size_t l = 0; l < layers; ++l) {
    const size_t n_in = sizes[l];
    const size_t n_out = sizes[l + 1];
    const float* w = params_.data() + net_.layout().tensors[2 * l].offset;
    const float* b = params_.data() + net_.layout().tensors[2 * l + 1].offset;
    // Z[n_out x batch] = op_T(Wc[n_in x n_out]) * A[n_in x batch]   (column-major view)
    TETHER_CUBLAS_TRY(cublasSgemm(ctx_.cublas(), CUBLAS_OP_T, CUBLAS_OP_N, as_int(n_out),
                                  as_int(batch), as_int(n_in), &one, w, as_int(n_in),
                                  activations_[l].data(), as_int(n_in), &zero,
                                  activations_[l + 1].data(), as_int(n_out)));
    TETHER_STATUS_TRY(
        add_bias(activations_[l + 1].data(), b, n_out, batch, l + 1 < layers, ctx_.stream()));
  }
  return status::ok();
}

status gpu_model::backward(size_t batch) {
  const auto& sizes = net_.spec().sizes;
  const size_t layers = sizes.size() - 1;
  for (size_t l = layers; l-- > 0;) {
    const size_t n_in = sizes[l];
    const size_t n_out = sizes[l + 1];
    const auto& wt = net_.layout().tensors[2 * l];
    const auto& bt = net_.layout().tensors[2 * l + 1];
    const float* d = deltas_[l + 1].data(); // n_out x batch, column-major view
    // dW^T[n_in x n_out] = A[n_in x batch] * op_T(D[n_out x batch])
    TETHER_CUBLAS_TRY(cublasSgemm(ctx_.cublas(), CUBLAS_OP_N, CUBLAS_OP_T, as_int(n_in),
                                  as_int(n_out), as_int(batch), &one, activations_[l].data(),
                                  as_int(n_in), d, as_int(n_out), &zero, grad_.data() + wt.offset,
                                  as_int(n_in)));
    // db[n_out] = sum over the batch of D
    TETHER_STATUS_TRY(bias_gradient(d, n_out, batch, grad_.data() + bt.offset, ctx_.stream()));
    if (l == 0)
      break; // no gradient with respect to the data
    // dA[n_in x batch] = Wc[n_in x n_out] * D[n_out x batch], then through A_l's ReLU
    TETHER_CUBLAS_TRY(cublasSgemm(ctx_.cublas(), CUBLAS_OP_N, CUBLAS_OP_N, as_int(n_in),
                                  as_int(batch), as_int(n_out), &one, params_.data() + wt.offset,
                                  as_int(n_in), d, as_int(n_out), &zero, deltas_[l].data(),
                                  as_int(n_in)));
    TETHER_STATUS_TRY(
        relu_backward(deltas_[l].data(), activations_[l].data(), n_in * batch, ctx_.stream()));
  }
  return status::ok();
}

result<float> gpu_model::finish() {
  if (last_batch_ == 0)
    return status{errc::invalid_argument, "finish: no batch has been computed yet"};
  TETHER_STATUS_TRY(ctx_.activate());
  TETHER_STATUS_TRY(ctx_.synchronize());
  return static_cast<float>(*loss_host_.data() / static_cast<double>(last_batch_));
}

result<float> gpu_model::step(std::span<const float> params, std::span<const uint32_t> indices,
                              std::span<float> grad_out) {
  TETHER_STATUS_TRY(upload_params(params));
  TETHER_STATUS_TRY(compute(indices));
  TETHER_STATUS_TRY(download_grad(grad_out));
  return finish();
}

} // namespace tether::gpu
