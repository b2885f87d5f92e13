// Tests of the fault tools of --faults: message fates and flips (actors/message_faults.hpp)
// and the checkpoint byte flip (actors/fault_injector.hpp).
#include "actors/fault_injector.hpp"
#include "actors/message_faults.hpp"
#include "tests/temp_dir.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <iterator>

using namespace tether;

namespace {

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

} // namespace

TEST_SUITE_BEGIN("fault_tools");

// --- message faults ---------------------------------------------------------------------

TEST_CASE("no fault probability: every message is delivered") {
  splitmix64 draws{7};
  message_faults none;
  for (int i = 0; i < 1000; ++i)
    REQUIRE(draw_fate(draws, none) == message_fate::deliver);
}

TEST_CASE("drop = 1: no message is delivered, requests and answers both dropped") {
  splitmix64 draws{7};
  message_faults all;
  all.drop = 1;
  int requests = 0, answers = 0;
  for (int i = 0; i < 1000; ++i) {
    auto fate = draw_fate(draws, all);
    REQUIRE((fate == message_fate::drop_request || fate == message_fate::drop_answer));
    (fate == message_fate::drop_request ? requests : answers) += 1;
  }
  CHECK(requests > 400);
  CHECK(answers > 400);
}

TEST_CASE("fates come at their probabilities") {
  splitmix64 draws{42};
  message_faults f;
  f.drop = 0.1;
  f.duplicate = 0.05;
  constexpr int n = 100000;
  int dropped = 0, duplicated = 0, delivered = 0, other = 0;
  for (int i = 0; i < n; ++i) {
    switch (draw_fate(draws, f)) {
    case message_fate::drop_request:
    case message_fate::drop_answer:
      ++dropped;
      break;
    case message_fate::duplicate:
      ++duplicated;
      break;
    case message_fate::deliver:
      ++delivered;
      break;
    default:
      ++other;
    }
  }
  CHECK(std::abs(dropped / double(n) - 0.1) < 0.01);
  CHECK(std::abs(duplicated / double(n) - 0.05) < 0.01);
  CHECK(std::abs(delivered / double(n) - 0.85) < 0.01);
  CHECK(other == 0);
}

TEST_CASE("a flipped push decodes to nothing or to another push") {
  push_request original{1, 7, 5, 10, {0.5f, -2, 3}};
  auto decode = [](std::span<const char> b) { return decode_push(b); };
  int nothing = 0, changed = 0, unchanged = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    splitmix64 draws{seed};
    auto out = flipped(draws, original, decode);
    if (!out) {
      ++nothing;
      continue;
    }
    bool same = out->worker == original.worker && out->clock == original.clock &&
                out->base_version == original.base_version &&
                out->range_begin == original.range_begin && same_bits(out->grad, original.grad);
    (same ? unchanged : changed) += 1;
  }
  MESSAGE("of 200 flips: " << nothing << " undecodable, " << changed << " changed, " << unchanged
                           << " decoded unchanged (the flip hit padding)");
  CHECK(nothing > 0);
  CHECK(changed > 0);
  CHECK(nothing + changed + unchanged == 200);
}

// --- checkpoint byte flip ---------------------------------------------------------------

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

} // namespace

TEST_CASE("flip_file_byte changes exactly one byte past the skip offset") {
  tether::testing::temp_dir dir;
  std::string text(64, '\0');
  for (size_t i = 0; i < text.size(); ++i)
    text[i] = static_cast<char>(i * 7);
  auto path = dir.write("ckpt", text);
  for (uint64_t seed = 0; seed < 50; ++seed) {
    REQUIRE(flip_file_byte(path, seed, 16));
    auto now = read_all(path);
    REQUIRE(now.size() == text.size());
    int differing = 0;
    for (size_t i = 0; i < text.size(); ++i)
      if (now[i] != text[i]) {
        ++differing;
        CHECK(i >= 16);
      }
    CHECK(differing == 1);
    text = now;
  }
}

TEST_CASE("flip_file_byte refuses a missing file or one not longer than the skip") {
  tether::testing::temp_dir dir;
  CHECK_FALSE(flip_file_byte(dir / "missing", 1, 16));
  auto exact = dir.write("exact", std::string(16, 'x'));
  CHECK_FALSE(flip_file_byte(exact, 1, 16));
  CHECK(read_all(exact) == std::string(16, 'x'));
  auto empty = dir.write("empty", "");
  CHECK_FALSE(flip_file_byte(empty, 1, 0));
  // One byte past the skip: that byte is the one that changes.
  auto one_more = dir.write("one-more", std::string(17, 'x'));
  CHECK(flip_file_byte(one_more, 1, 16));
  auto now = read_all(one_more);
  CHECK(now.substr(0, 16) == std::string(16, 'x'));
  CHECK(now[16] != 'x');
}

TEST_SUITE_END();
