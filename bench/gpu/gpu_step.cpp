// tether's GPU compute step, timed (bench/gpu/device-run.sh runs it beside PyTorch's):
// forward, backward and the gradient complete in device memory (gpu/gpu_model.hpp), for
// the MLPs of issue 6 in fp32 and tf32, run back to back (eager) and replayed from a CUDA
// graph; the gradient's copy to the host is timed on its own. Synthetic data, seeded.
// One line per configuration:
//   tether <model> batch <B> <math> <mode>: <us> us per step
// Needs a CUDA device; without one it says so and exits 1.
#include "core/model.hpp"
#include "gpu/buffers.hpp"
#include "gpu/context.hpp"
#include "gpu/device.hpp"
#include "gpu/gpu_model.hpp"

#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace tether;
using clock_type = std::chrono::steady_clock;

dataset synthetic(size_t count, size_t features, size_t classes, std::mt19937& rng) {
  dataset d;
  d.count = count;
  d.features = features;
  d.classes = classes;
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  d.x.resize(count * features);
  for (auto& v : d.x)
    v = u(rng);
  d.y.resize(count);
  for (auto& v : d.y)
    v = static_cast<float>(rng() % classes);
  return d;
}

template <class F>
double microseconds_per(int steps, F&& body) {
  auto start = clock_type::now();
  for (int i = 0; i < steps; ++i)
    body();
  return std::chrono::duration<double, std::micro>(clock_type::now() - start).count() / steps;
}

bool fail(const char* what, const status& st) {
  std::printf("  %s failed: %s\n", what, st.message().c_str());
  return false;
}

bool bench(const std::string& spec_text, size_t batch, gpu::gpu_math math) {
  std::mt19937 rng{20261128};
  auto spec = parse_model_spec(spec_text);
  auto net = model::make(*spec);
  if (!net)
    return fail("model", net.error());
  auto data = synthetic(std::max<size_t>(4 * batch, 4096), net->inputs(), net->outputs(), rng);
  auto ctx = gpu::context::create(0, math);
  if (!ctx)
    return fail("context", ctx.error());
  auto m = gpu::gpu_model::create(**ctx, *net, data, batch);
  if (!m)
    return fail("gpu_model", m.error());
  auto& g = **m;
  gpu::pinned_buffer<float> params, grad;
  if (auto st = params.resize(net->layout().total); !st)
    return fail("pinned params", st);
  if (auto st = grad.resize(net->layout().total); !st)
    return fail("pinned grad", st);
  std::span<float> p{params.data(), net->layout().total}, gr{grad.data(), net->layout().total};
  net->init_params(p, 7);
  std::vector<uint32_t> idx(batch);
  for (auto& i : idx)
    i = static_cast<uint32_t>(rng() % data.count);
  if (auto st = g.upload_params(p); !st)
    return fail("upload", st);
  for (int i = 0; i < 20; ++i)
    if (auto st = g.compute(idx); !st)
      return fail("compute", st);
  if (auto loss = g.finish(); !loss)
    return fail("warm-up", loss.error());
  const int steps = batch >= 1024 ? 100 : 500;
  const char* mode_math = math == gpu::gpu_math::tf32 ? "tf32" : "fp32";
  double eager = microseconds_per(steps, [&] { (void) g.compute(idx); });
  if (auto loss = g.finish(); !loss)
    return fail("eager", loss.error());
  std::printf("tether %s batch %zu %s eager: %.1f us per step\n", spec_text.c_str(), batch,
              mode_math, eager);
  // The same step captured once in a CUDA graph and replayed.
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  auto stream = (*ctx)->stream();
  bool captured = cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal) == cudaSuccess;
  status in_capture = captured ? g.compute(idx) : status{errc::internal, "begin capture"};
  captured = cudaStreamEndCapture(stream, &graph) == cudaSuccess && captured && in_capture
             && cudaGraphInstantiate(&exec, graph, 0) == cudaSuccess;
  if (captured) {
    double replay = microseconds_per(steps, [&] { cudaGraphLaunch(exec, stream); });
    cudaStreamSynchronize(stream);
    std::printf("tether %s batch %zu %s graph: %.1f us per step\n", spec_text.c_str(), batch,
                mode_math, replay);
  } else {
    std::printf("tether %s batch %zu %s graph: not capturable (%s)\n", spec_text.c_str(), batch,
                mode_math, in_capture ? cudaGetErrorString(cudaGetLastError())
                                      : in_capture.message().c_str());
    cudaGetLastError();
  }
  if (exec)
    cudaGraphExecDestroy(exec);
  if (graph)
    cudaGraphDestroy(graph);
  // The gradient's copy to the host, on its own.
  double copy = microseconds_per(steps, [&] {
    (void) g.download_grad(gr);
    (void) (*ctx)->synchronize();
  });
  std::printf("tether %s batch %zu %s gradient to host: %.1f us (%zu floats)\n",
              spec_text.c_str(), batch, mode_math, copy, net->layout().total);
  return true;
}

} // namespace

int main() {
  auto found = gpu::devices();
  if (found.count == 0) {
    std::printf("tether_gpu_bench: no CUDA device (%s)\n", found.problem.c_str());
    return 1;
  }
  std::printf("tether_gpu_bench on %s\n", gpu::describe(0).c_str());
  bool ok = true;
  for (auto math : {gpu::gpu_math::fp32, gpu::gpu_math::tf32}) {
    ok &= bench("mlp:784,256,128,10", 64, math);
    ok &= bench("mlp:784,4096,4096,10", 1024, math);
  }
  return ok ? 0 : 1;
}
