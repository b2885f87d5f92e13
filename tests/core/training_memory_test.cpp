// Tests of core/training_memory.hpp and core/memory_limit.hpp: the memory a job needs,
// computed without wrapping, refused above the ceiling with both figures.
#include "core/training_memory.hpp"
#include "tests/skip.hpp"

#include <doctest/doctest.h>

#include <string>

#include <sys/resource.h>

using namespace tether;

namespace {

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("estimate_training_memory adds parameters, optimizer, workers and the cut") {
  training_shape shape;
  shape.params = 1000;
  shape.activation_floats_per_sample = 10;
  shape.optimizer_slots = 2;
  shape.workers = 3;
  shape.batch = 4;
  auto m = estimate_training_memory(shape);
  CHECK(m.parameters == 4000);
  CHECK(m.optimizer_state == 8000);
  CHECK(m.per_worker == 3 * 4000 + 2 * 4 * 10 * 4);
  CHECK(m.checkpoint == 12000);
  CHECK(m.total == 4000 + 8000 + 3 * m.per_worker + 12000);
}

TEST_CASE("sizes that overflow 64 bits saturate instead of wrapping") {
  training_shape shape;
  shape.params = UINT64_MAX / 2;
  shape.optimizer_slots = 2;
  shape.workers = 256;
  auto m = estimate_training_memory(shape);
  CHECK(m.total == UINT64_MAX);
  CHECK(saturating_mul(UINT64_MAX, 2) == UINT64_MAX);
  CHECK(saturating_add(UINT64_MAX - 1, 2) == UINT64_MAX);
  CHECK(saturating_mul(0, UINT64_MAX) == 0);
}

TEST_CASE("check_training_memory refuses with the figure and the limit") {
  // mlp:784,999999999,10: (784 + 1) x 999999999 + (999999999 + 1) x 10 parameters.
  training_shape shape;
  shape.params = 785ull * 999999999ull + 10ull * 1000000000ull;
  shape.activation_floats_per_sample = 999999999ull + 10;
  shape.optimizer_slots = 2;
  shape.workers = 2;
  shape.batch = 64;
  memory_ceiling ceiling{8ull << 30, "the machine's physical memory"};
  auto st = check_training_memory("mlp:784,999999999,10", shape, ceiling);
  REQUIRE_FALSE(st);
  CHECK(st.code() == errc::invalid_argument);
  INFO(st.message());
  CHECK(has(st.message(), "model mlp:784,999999999,10 needs at least "));
  CHECK(has(st.message(), "TiB of memory (parameters 2.89 TiB, optimizer state 5.78 TiB, 2 "
                          "workers x "));
  CHECK(has(st.message(), "but this process may use 8.00 GiB (the machine's physical memory)"));
  shape.params = 1000;
  shape.activation_floats_per_sample = 10;
  CHECK(check_training_memory("small", shape, ceiling));
}

TEST_CASE("the process ceiling is the lowest limit and names it") {
  auto ceiling = process_memory_ceiling();
  CHECK(ceiling.bytes > 0);
  CHECK(ceiling.bytes < UINT64_MAX); // the physical memory is always known on Linux
  CHECK_FALSE(ceiling.source.empty());
  struct rlimit old;
  REQUIRE(::getrlimit(RLIMIT_AS, &old) == 0);
  if (old.rlim_cur != RLIM_INFINITY) {
    tether::testing::skip_test("RLIMIT_AS is already set, the lowering check needs it unset");
  }
  // Just below the ceiling found: harmless for this small process, and then the lowest,
  // less what the process has mapped already.
  struct rlimit low = old;
  low.rlim_cur = ceiling.bytes - 4096;
  REQUIRE(::setrlimit(RLIMIT_AS, &low) == 0);
  auto lowered = process_memory_ceiling();
  REQUIRE(::setrlimit(RLIMIT_AS, &old) == 0);
  CHECK(lowered.bytes < ceiling.bytes - 4096);
  CHECK(lowered.bytes > ceiling.bytes / 2); // a test binary maps far less than that
  CHECK(has(lowered.source, "RLIMIT_AS (ulimit -v), less the "));
  CHECK(has(lowered.source, " already mapped"));
}

TEST_CASE("format_bytes") {
  CHECK(format_bytes(900) == "900 bytes");
  CHECK(format_bytes(1536) == "1.50 KiB");
  CHECK(format_bytes(uint64_t{312} << 20) == "312 MiB");
  CHECK(format_bytes(uint64_t{3} << 40) == "3.00 TiB");
}
