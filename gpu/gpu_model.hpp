// The forward/backward pass of a tether::model (core/model.hpp) on one GPU context.
//
// A gpu_model computes exactly what model::loss_and_gradient computes (same parameter
// layout, same losses, the gradient of the MEAN loss over the batch), with the training set
// resident in device memory: a step moves only the parameters in, the batch's indices in,
// and the gradient and one loss scalar out.
//
// Ownership: the gpu_model borrows its context (which must outlive it) and owns its device
// buffers: the training set (x and y, copied once in create), the parameters, the gradient,
// and activations and deltas sized for up to max_batch samples.
// Threads: like its context, used by one thread at a time (it may change between calls);
// every call makes the context's device current first.
// Asynchrony: upload_params, compute and download_grad only enqueue work on the context's
// stream (in that order it runs); finish() waits for it. Errors raised by the enqueued work
// (a kernel fault) are reported by finish().
//
// Layout on the device: batches are sample-major (gpu/kernels.hpp): activation l is
// batch x sizes[l], row-major, which cuBLAS sees as a column-major sizes[l] x batch matrix.
// See gpu/gpu_model.cu for the gemm calls.
#pragma once

#include "core/dataset.hpp"
#include "core/model.hpp"
#include "core/status.hpp"
#include "gpu/buffers.hpp"
#include "gpu/context.hpp"

#include <cuda_runtime.h>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace tether::gpu {

class gpu_model {
public:
  /// Copies `train` (x and y) to the device of `ctx` and allocates everything a batch of up
  /// to `max_batch` samples needs; waits for the copy. Fails with errc::mismatch when the
  /// data does not fit the model (features != inputs, a label of a classification set that
  /// is not an integer class index below outputs), errc::invalid_argument for max_batch 0,
  /// errc::internal when a CUDA call fails (out of device memory names the size).
  static result<std::unique_ptr<gpu_model>> create(context& ctx, const model& net,
                                                   const dataset& train, size_t max_batch);

  gpu_model(const gpu_model&) = delete;
  gpu_model& operator=(const gpu_model&) = delete;
  /// Waits for the stream, then frees the device and pinned memory.
  ~gpu_model();

  /// Enqueues the copy of `host` (layout().total floats, else errc::invalid_argument) into
  /// the device parameters. `host` must stay valid and unchanged until the next finish()
  /// (or context::synchronize): from pinned memory the copy runs truly asynchronously, from
  /// pageable memory CUDA may stage it before returning.
  status upload_params(std::span<const float> host);

  /// Enqueues one forward/backward pass over the training samples `indices` (1 to
  /// max_batch of them, each < train.count, else errc::invalid_argument; checked here on
  /// the host). The indices are copied before this returns (the span may be reused at
  /// once). Afterwards, on the stream: the device gradient holds d(mean loss)/d(params) in
  /// layout order, and the loss sum of the batch is on its way to the host for finish().
  /// Uses the parameters of the last upload_params. Never waits for the device, except
  /// when the index copy of the previous compute has not yet run (two computes enqueued
  /// without finish() between them).
  status compute(std::span<const uint32_t> indices);

  /// Enqueues the copy of the device gradient into `host` (layout().total floats, else
  /// errc::invalid_argument). `host` holds it only after finish().
  status download_grad(std::span<float> host);

  /// Waits for all enqueued work; returns the mean loss of the last computed batch
  /// (cross-entropy, or J = 1/(2m) sum (h - y)^2 for the linear model), or the error that
  /// the work raised. errc::invalid_argument when no batch was computed yet.
  result<float> finish();

  /// upload_params, compute, download_grad, finish: the GPU twin of
  /// model::loss_and_gradient on the gathered batch.
  result<float> step(std::span<const float> params, std::span<const uint32_t> indices,
                     std::span<float> grad_out);

  /// Samples of the last batch whose label is the argmax of the logits (softmax heads;
  /// 0 for squared error). Valid after finish().
  size_t last_correct() const { return last_batch_ == 0 ? 0 : *correct_host_.data(); }

  const model& net() const { return net_; }
  size_t max_batch() const { return max_batch_; }
  /// Device pointers, for callers that keep working on the stream (e.g. a device-side
  /// optimizer): layout().total floats each.
  float* device_params() { return params_.data(); }
  const float* device_grad() const { return grad_.data(); }

private:
  gpu_model(context& ctx, const model& net, size_t max_batch)
      : ctx_(ctx), net_(net), max_batch_(max_batch) {}

  status allocate(const dataset& train);
  status forward(size_t batch);
  status backward(size_t batch);

  context& ctx_;
  model net_;
  size_t max_batch_ = 0;
  size_t train_count_ = 0;
  size_t last_batch_ = 0; ///< samples of the last compute; 0 before the first

  device_buffer<float> train_x_;                  ///< train.count x inputs
  device_buffer<float> train_y_;                  ///< train.count
  device_buffer<float> params_;                   ///< layout().total
  device_buffer<float> grad_;                     ///< layout().total
  device_buffer<uint32_t> indices_;               ///< max_batch
  device_buffer<float> batch_y_;                  ///< max_batch targets of the batch
  std::vector<device_buffer<float>> activations_; ///< [l]: max_batch x sizes[l]; [0] = x
  std::vector<device_buffer<float>> deltas_;      ///< [l], l >= 1: d loss / d pre-activation of
                                                  ///< layer l-1, max_batch x sizes[l]
  device_buffer<double> loss_sum_;                ///< 1: sum of per-sample losses of the batch
  device_buffer<unsigned int> correct_;           ///< 1: argmax hits of the batch
  pinned_buffer<uint32_t> indices_host_;          ///< max_batch: staging for the index copy
  pinned_buffer<double> loss_host_;               ///< 1
  pinned_buffer<unsigned int> correct_host_;      ///< 1
  cudaEvent_t indices_copied_ = nullptr;          ///< recorded after each index copy
};

} // namespace tether::gpu
