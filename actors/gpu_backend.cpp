// The GPU compute backend (actors/compute_backend.hpp): one worker's context and model on
// one CUDA device. Built into every CUDA build; compiles to nothing without CUDA (the
// declarations are then answered by compute_backend.cpp).
#ifdef TETHER_HAS_CUDA

#include "actors/compute_backend.hpp"
#include "gpu/buffers.hpp"
#include "gpu/context.hpp"
#include "gpu/device.hpp"
#include "gpu/gpu_model.hpp"

#include <algorithm>

namespace tether {

namespace {

/// Parameters go host -> pinned -> device and the gradient back the same way: the copies
/// to and from the device are asynchronous on the context's stream, and step() waits for
/// the stream once, at its end (the worker is detached: the wait holds only its thread).
class gpu_backend final : public compute_backend {
public:
  static result<std::unique_ptr<compute_backend>> make(int device, gpu::gpu_math math,
                                                       const model& net, const dataset& train,
                                                       size_t max_batch) {
    auto out = std::unique_ptr<gpu_backend>(new gpu_backend);
    out->name_ = "gpu " + std::to_string(device) + " (" + gpu::describe(device) + ")";
    auto ctx = gpu::context::create(device, math);
    if (!ctx)
      return ctx.error();
    out->ctx_ = std::move(*ctx);
    auto m = gpu::gpu_model::create(*out->ctx_, net, train, max_batch);
    if (!m)
      return m.error();
    out->model_ = std::move(*m);
    if (auto st = out->params_.resize(net.layout().total); !st)
      return st;
    if (auto st = out->grad_.resize(net.layout().total); !st)
      return st;
    return std::unique_ptr<compute_backend>(std::move(out));
  }

  result<float> step(std::span<const float> params, std::span<const uint32_t> indices,
                     std::span<float> grad) override {
    if (auto st = ctx_->activate(); !st)
      return st;
    std::copy(params.begin(), params.end(), params_.data());
    if (auto st = model_->upload_params({params_.data(), params.size()}); !st)
      return st;
    if (auto st = model_->compute(indices); !st)
      return st;
    if (auto st = model_->download_grad({grad_.data(), grad.size()}); !st)
      return st;
    auto loss = model_->finish();
    if (!loss)
      return loss;
    std::copy_n(grad_.data(), grad.size(), grad.begin());
    return loss;
  }

  std::string name() const override { return name_; }

private:
  gpu_backend() = default;
  std::string name_;
  std::unique_ptr<gpu::context> ctx_;
  std::unique_ptr<gpu::gpu_model> model_;
  gpu::pinned_buffer<float> params_, grad_;
};

} // namespace

result<std::unique_ptr<compute_backend>> make_gpu_backend(int device, const std::string& math,
                                                          std::shared_ptr<const model> net,
                                                          std::shared_ptr<const dataset> train,
                                                          size_t max_batch) {
  auto parsed = gpu::parse_gpu_math(math);
  if (!parsed)
    return parsed.error();
  return gpu_backend::make(device, *parsed, *net, *train, max_batch);
}

std::string gpu_problem(const std::vector<int>& gpus) {
  auto found = gpu::devices();
  if (found.count == 0)
    return "no CUDA device can be used here (" + found.problem + ")";
  for (int g : gpus)
    if (g >= found.count)
      return "there is no device " + std::to_string(g) + ": " + std::to_string(found.count)
             + " CUDA device" + (found.count == 1 ? " is" : "s are") + " visible, numbered from 0";
  return {};
}

} // namespace tether

#endif
