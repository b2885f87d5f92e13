// gpu/buffers.hpp: device and pinned buffers grow only, move, and hold data.
#include "gpu/buffers.hpp"

#include "gpu_test_support.hpp"

#include <numeric>

using namespace tether;
using namespace tether::gpu;

TEST_CASE("device_buffer: empty, grows only, moves, round-trips data") {
  TETHER_GPU_REQUIRE_DEVICE();
  auto ctx = test::make_context();
  device_buffer<float> a;
  CHECK(a.data() == nullptr);
  CHECK(a.size() == 0);
  REQUIRE(a.resize(1000).is_ok());
  CHECK(a.size() == 1000);
  const float* first = a.data();
  REQUIRE(first != nullptr);
  REQUIRE(a.resize(10).is_ok()); // smaller: kept as it is
  CHECK(a.size() == 1000);
  CHECK(a.data() == first);

  std::vector<float> host(1000);
  std::iota(host.begin(), host.end(), 0.0f);
  REQUIRE(cudaMemcpy(a.data(), host.data(), 4000, cudaMemcpyHostToDevice) == cudaSuccess);
  device_buffer<float> b = std::move(a);
  CHECK(a.data() == nullptr);
  CHECK(a.size() == 0);
  CHECK(b.size() == 1000);
  CHECK(test::to_host(*ctx, b.data(), 1000) == host);

  device_buffer<float> c;
  REQUIRE(c.resize(5).is_ok());
  c = std::move(b); // frees c's own memory first
  CHECK(c.size() == 1000);
  CHECK(test::to_host(*ctx, c.data(), 1000) == host);
}

TEST_CASE("device_buffer: an impossible size is a status naming the size, not a crash") {
  TETHER_GPU_REQUIRE_DEVICE();
  device_buffer<float> a;
  auto st = a.resize(size_t{1} << 50); // 4 PiB
  REQUIRE(!st.is_ok());
  CHECK(st.code() == errc::internal);
  CHECK(st.message().find("cudaMalloc of 4503599627370496 bytes") != std::string::npos);
  CHECK(a.size() == 0);
  CHECK(cudaGetLastError() == cudaSuccess); // allocation failures are not sticky
}

TEST_CASE("pinned_buffer: host-readable span, async copies through it") {
  TETHER_GPU_REQUIRE_DEVICE();
  auto ctx = test::make_context();
  pinned_buffer<uint32_t> p;
  CHECK(p.span().empty());
  REQUIRE(p.resize(256).is_ok());
  REQUIRE(p.span().size() == 256);
  std::iota(p.span().begin(), p.span().end(), 7u);
  device_buffer<uint32_t> d;
  REQUIRE(d.resize(256).is_ok());
  REQUIRE(cudaMemcpyAsync(d.data(), p.data(), p.bytes(), cudaMemcpyHostToDevice, ctx->stream()) ==
          cudaSuccess);
  pinned_buffer<uint32_t> back;
  REQUIRE(back.resize(256).is_ok());
  REQUIRE(cudaMemcpyAsync(back.data(), d.data(), d.bytes(), cudaMemcpyDeviceToHost,
                          ctx->stream()) == cudaSuccess);
  REQUIRE(ctx->synchronize().is_ok());
  CHECK(std::equal(back.span().begin(), back.span().end(), p.span().begin()));
  pinned_buffer<uint32_t> moved = std::move(back);
  CHECK(moved.size() == 256);
  CHECK(back.size() == 0);
}
