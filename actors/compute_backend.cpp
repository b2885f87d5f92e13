#include "actors/compute_backend.hpp"

#include "core/sampler.hpp"

namespace tether {

namespace {

class cpu_backend final : public compute_backend {
public:
  cpu_backend(std::shared_ptr<const model> net, std::shared_ptr<const dataset> train)
    : net_(std::move(net)), train_(std::move(train)) {}

  result<float> step(std::span<const float> params, std::span<const uint32_t> indices,
                     std::span<float> grad) override {
    gather_batch(*train_, indices, x_, y_);
    return net_->loss_and_gradient(params, x_, y_, indices.size(), grad, ws_);
  }

  std::string name() const override { return "cpu"; }

private:
  std::shared_ptr<const model> net_;
  std::shared_ptr<const dataset> train_;
  std::vector<float> x_, y_;
  model_workspace ws_;
};

} // namespace

std::unique_ptr<compute_backend> make_cpu_backend(std::shared_ptr<const model> net,
                                                  std::shared_ptr<const dataset> train) {
  return std::make_unique<cpu_backend>(std::move(net), std::move(train));
}

#ifndef TETHER_HAS_CUDA

result<std::unique_ptr<compute_backend>> make_gpu_backend(int, const std::string&,
                                                          std::shared_ptr<const model>,
                                                          std::shared_ptr<const dataset>, size_t) {
  return status{errc::invalid_argument, gpu_problem({0})};
}

std::string gpu_problem(const std::vector<int>&) {
  return "this build of tether has no GPU support: it was built without CUDA (nvcc not found, "
         "or -DTETHER_CUDA=OFF); install CUDA (nvcc on PATH or at /usr/local/cuda/bin) and "
         "build again";
}

#endif

} // namespace tether
