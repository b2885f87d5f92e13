// How a worker computes one batch: the loss and the gradient of the whole model, on the
// CPU (core/model.hpp or core/gpt_model.hpp, in the worker's own thread) or on a GPU (gpu/, CUDA builds only).
//
// A backend belongs to one worker and is used from one thread at a time (not shared).
// A GPU backend waits for its stream at the end of step(): a worker with one runs as a
// detached actor (its own thread), so the wait never holds a CAF scheduler thread.
#pragma once

#include "core/dataset.hpp"
#include "core/gpt_model.hpp"
#include "core/text_corpus.hpp"
#include "core/model.hpp"
#include "core/status.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace tether {

class compute_backend {
public:
  virtual ~compute_backend() = default;
  /// The mean loss of batch `indices` of the training set at `params`; d(loss)/d(params)
  /// into `grad` (layout().total floats each).
  virtual result<float> step(std::span<const float> params, std::span<const uint32_t> indices,
                             std::span<float> grad) = 0;
  /// "cpu", "gpu 0 (NVIDIA H100 80GB HBM3, ...)": for logs.
  virtual std::string name() const = 0;
};

/// The CPU backend: gathers the batch and calls model::loss_and_gradient.
std::unique_ptr<compute_backend> make_cpu_backend(std::shared_ptr<const model> net,
                                                  std::shared_ptr<const dataset> train);

/// The GPT's CPU backend (actors/gpt_backend.cpp): indices are windows of the training
/// text (core/text_corpus.hpp); gathers them and calls gpt_model::loss_and_gradient.
/// Its buffers are sized on the first step; later steps of the same batch allocate nothing.
std::unique_ptr<compute_backend> make_gpt_backend(std::shared_ptr<const gpt_model> gpt,
                                                  std::shared_ptr<const text_corpus> text);

/// A GPU backend on CUDA device `device` with --gpu-math `math` ("fp32" or "tf32"): the
/// training set is copied to the device once, here. Fails with a message in a build
/// without CUDA, on a machine without that device, or when the device cannot hold the data.
result<std::unique_ptr<compute_backend>> make_gpu_backend(int device, const std::string& math,
                                                          std::shared_ptr<const model> net,
                                                          std::shared_ptr<const dataset> train,
                                                          size_t max_batch);

/// Why `--gpus` cannot be used here, or "" when it can: this build has no CUDA, or no
/// device is visible, or a listed device index is not there.
std::string gpu_problem(const std::vector<int>& gpus);

} // namespace tether
