// Tests of messages/codec.hpp: round trips of every wire message, and decoders that
// turn any bad input (empty, truncated, random, flipped, of another kind, misaligned)
// into errc::corrupt_data without throwing.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>

#include "messages/codec.hpp"

using namespace tether;

namespace {

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v)
    x = dist(gen);
  return v;
}

bool bit_identical(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

push_request sample_push(size_t n) {
  push_request msg{3, 17, 12, 4096, random_floats(n, 7)};
  return msg;
}

// The bytes of `bytes`, placed at an address that is 4 mod 8.
struct misaligned_copy {
  std::vector<uint64_t> storage;
  std::span<const char> view;
  explicit misaligned_copy(const std::vector<char>& bytes) : storage(bytes.size() / 8 + 2) {
    char* at = reinterpret_cast<char*>(storage.data()) + 4;
    std::memcpy(at, bytes.data(), bytes.size());
    view = {at, bytes.size()};
  }
};

} // namespace

TEST_CASE("pull_request round trip") {
  pull_request in{7, 123456789012345ull};
  auto bytes = encode(in);
  CHECK(bytes.size() % 8 == 0);
  auto out = decode_pull(bytes);
  REQUIRE(out);
  CHECK(out->worker == 7);
  CHECK(out->clock == 123456789012345ull);
}

TEST_CASE("push_request round trip is bit-identical, special values included") {
  auto in = sample_push(1000);
  in.grad[0] = -0.0f;
  in.grad[1] = std::numeric_limits<float>::infinity();
  in.grad[2] = std::numeric_limits<float>::quiet_NaN();
  in.grad[3] = std::numeric_limits<float>::denorm_min();
  auto bytes = encode(in);
  uint32_t segments_minus_one;
  std::memcpy(&segments_minus_one, bytes.data(), 4);
  CHECK(segments_minus_one == 0); // one segment
  auto out = decode_push(bytes);
  REQUIRE(out);
  CHECK(out->worker == in.worker);
  CHECK(out->clock == in.clock);
  CHECK(out->base_version == in.base_version);
  CHECK(out->range_begin == in.range_begin);
  CHECK(bit_identical(out->grad, in.grad));
}

TEST_CASE("push_request with an empty gradient") {
  push_request in{1, 2, 3, 4, {}};
  auto out = decode_push(encode(in));
  REQUIRE(out);
  CHECK(out->grad.empty());
  CHECK(out->range_begin == 4);
}

TEST_CASE("param_slice round trip") {
  param_slice in{99, 500, random_floats(4321, 3)};
  auto out = decode_param_slice(encode(in));
  REQUIRE(out);
  CHECK(out->version == 99);
  CHECK(out->range_begin == 500);
  CHECK(bit_identical(out->values, in.values));
}

TEST_CASE("a 1M-float gradient: one segment, bit-identical, timed") {
  auto in = sample_push(1 << 20);
  auto bytes = encode(in);
  CHECK(bytes.size() == 8 + 8 + 16 + 40 + (size_t{4} << 20)); // table, root, envelope, push
  uint32_t segments_minus_one;
  std::memcpy(&segments_minus_one, bytes.data(), 4);
  CHECK(segments_minus_one == 0);
  auto out = decode_push(bytes);
  REQUIRE(out);
  CHECK(bit_identical(out->grad, in.grad));

  constexpr int runs = 20;
  auto start = std::chrono::steady_clock::now();
  size_t total = 0;
  for (int i = 0; i < runs; ++i) {
    auto b = encode(in);
    auto o = decode_push(b);
    total += o->grad.size();
  }
  auto us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start);
  CHECK(total == runs * in.grad.size());
  MESSAGE("encode+decode of a 1M-float push_request: " << us.count() / runs << " us");
}

TEST_CASE("misaligned input is copied and decodes") {
  auto in = sample_push(777);
  misaligned_copy copy(encode(in));
  REQUIRE(reinterpret_cast<uintptr_t>(copy.view.data()) % 8 == 4);
  auto out = decode_push(copy.view);
  REQUIRE(out);
  CHECK(bit_identical(out->grad, in.grad));
  // ... and a misaligned, truncated one is an error.
  auto bad = decode_push(copy.view.first(copy.view.size() - 8));
  CHECK_FALSE(bad);
}

TEST_CASE("empty input is an error") {
  std::span<const char> none;
  auto pull = decode_pull(none);
  REQUIRE_FALSE(pull);
  CHECK(pull.error().code() == errc::corrupt_data);
  CHECK(pull.error().message().find("empty") != std::string::npos);
  CHECK_FALSE(decode_push(none));
  CHECK_FALSE(decode_param_slice(none));
  std::vector<char> zeros(64, 0); // a zeroed message holds an empty envelope
  CHECK_FALSE(decode_pull(zeros));
}

TEST_CASE("every truncation is an error") {
  auto bytes = encode(sample_push(100));
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::span<const char> cut(bytes.data(), n);
    auto out = decode_push(cut);
    CHECK_FALSE(out);
    if (!out)
      CHECK(out.error().code() == errc::corrupt_data);
  }
  auto pull = encode(pull_request{1, 2});
  for (size_t n = 0; n < pull.size(); ++n)
    CHECK_FALSE(decode_pull(std::span<const char>(pull.data(), n)));
}

TEST_CASE("trailing bytes are an error") {
  auto bytes = encode(pull_request{1, 2});
  bytes.resize(bytes.size() + 8, 0);
  CHECK_FALSE(decode_pull(bytes));
}

TEST_CASE("a message of another kind is an error") {
  auto pull = encode(pull_request{1, 2});
  auto push = encode(sample_push(10));
  auto slice = encode(param_slice{1, 2, random_floats(10, 1)});
  auto wrong = decode_push(pull);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().message().find("pull_request") != std::string::npos);
  CHECK_FALSE(decode_param_slice(pull));
  CHECK_FALSE(decode_pull(push));
  CHECK_FALSE(decode_param_slice(push));
  CHECK_FALSE(decode_pull(slice));
  CHECK_FALSE(decode_push(slice));
}

TEST_CASE("a gradient blob that is not a whole number of floats is an error") {
  auto bytes = encode(push_request{1, 2, 3, 4, {1.0f, 2.0f}});
  // Find the blob's list pointer (kind 1, byte elements, 8 of them) and make it 5 bytes.
  bool patched = false;
  for (size_t at = 8; at + 8 <= bytes.size() && !patched; at += 8) {
    uint32_t lo, hi;
    std::memcpy(&lo, bytes.data() + at, 4);
    std::memcpy(&hi, bytes.data() + at + 4, 4);
    if ((lo & 3) == 1 && hi == ((8u << 3) | 2u)) {
      hi = (5u << 3) | 2u;
      std::memcpy(bytes.data() + at + 4, &hi, 4);
      patched = true;
    }
  }
  REQUIRE(patched);
  auto out = decode_push(bytes);
  REQUIRE_FALSE(out);
  CHECK(out.error().message().find("float32") != std::string::npos);
}

TEST_CASE("2000 random buffers never throw") {
  std::mt19937 gen(42);
  int errors = 0, plausible_errors = 0;
  for (int i = 0; i < 2000; ++i) {
    size_t words = 1 + gen() % 64;
    std::vector<char> buf(words * 8 + (i % 7 == 0 ? gen() % 8 : 0));
    for (auto& c : buf)
      c = static_cast<char>(gen());
    bool plausible = i % 2 == 1 && words >= 2; // a valid one-segment table
    if (plausible) {
      const uint32_t table[2] = {0, static_cast<uint32_t>(words - 1)};
      std::memcpy(buf.data(), table, 8);
    }
    CHECK_NOTHROW({
      bool ok_pull = decode_pull(buf).is_ok();
      bool ok_push = decode_push(buf).is_ok();
      bool ok_slice = decode_param_slice(buf).is_ok();
      if (!ok_pull && !ok_push && !ok_slice)
        (plausible ? plausible_errors : errors)++;
      else if (!plausible)
        FAIL("random bytes decoded as a message");
    });
  }
  MESSAGE("random buffers rejected: " << errors << " of ~1000 plain, " << plausible_errors
                                      << " of ~1000 with a valid segment table");
}

TEST_CASE("flipped bytes in a valid message never throw") {
  auto good = encode(sample_push(64));
  std::mt19937 gen(7);
  for (int i = 0; i < 2000; ++i) {
    auto bytes = good;
    for (int k = 0; k < 1 + i % 4; ++k)
      bytes[gen() % bytes.size()] ^= static_cast<char>(1 + gen() % 255);
    CHECK_NOTHROW((void)decode_push(bytes));
  }
}
