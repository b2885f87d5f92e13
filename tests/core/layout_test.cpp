#include "core/layout.hpp"

#include <doctest/doctest.h>

using namespace tether;

namespace {

param_layout mlp_layout() {
  param_layout l;
  l.add("layer0.weight", {4, 3});
  l.add("layer0.bias", {4});
  l.add("layer1.weight", {2, 4});
  l.add("layer1.bias", {2});
  return l;
}

} // namespace

TEST_CASE("param_layout places tensors one after another") {
  auto l = mlp_layout();
  REQUIRE(l.tensors.size() == 4);
  CHECK(l.tensors[0].offset == 0);
  CHECK(l.tensors[0].size == 12);
  CHECK(l.tensors[1].offset == 12);
  CHECK(l.tensors[1].size == 4);
  CHECK(l.tensors[2].offset == 16);
  CHECK(l.tensors[2].size == 8);
  CHECK(l.tensors[3].offset == 24);
  CHECK(l.tensors[3].shape == std::vector<size_t>{2});
  CHECK(l.total == 26);
}

TEST_CASE("fingerprint is stable and sensitive to names, shapes and order") {
  const auto base = mlp_layout().fingerprint();
  CHECK(base == mlp_layout().fingerprint());
  // Pinned (checked against an independent Python FNV-1a): checkpoints store this
  // value, so the hash must never change silently.
  CHECK(base == 0x0d17e0391d9e9c70ull);

  param_layout renamed = mlp_layout();
  renamed.tensors[1].name = "layer0.bias2";
  CHECK(renamed.fingerprint() != base);

  param_layout reshaped; // same total and sizes, other shape
  reshaped.add("layer0.weight", {3, 4});
  reshaped.add("layer0.bias", {4});
  reshaped.add("layer1.weight", {2, 4});
  reshaped.add("layer1.bias", {2});
  CHECK(reshaped.total == 26);
  CHECK(reshaped.fingerprint() != base);

  param_layout reordered;
  reordered.add("layer0.bias", {4});
  reordered.add("layer0.weight", {4, 3});
  reordered.add("layer1.weight", {2, 4});
  reordered.add("layer1.bias", {2});
  CHECK(reordered.fingerprint() != base);

  param_layout split_name_a, split_name_b; // name boundaries matter
  split_name_a.add("ab", {1});
  split_name_a.add("c", {1});
  split_name_b.add("a", {1});
  split_name_b.add("bc", {1});
  CHECK(split_name_a.fingerprint() != split_name_b.fingerprint());

  CHECK(param_layout{}.fingerprint() != base);
}

TEST_CASE("split_ranges covers everything, in order, with sizes differing by at most one") {
  for (size_t total = 1; total <= 130; ++total) {
    for (size_t parts = 1; parts <= total; ++parts) {
      auto ranges = split_ranges(total, parts);
      REQUIRE(ranges.size() == parts);
      size_t next = 0;
      size_t smallest = total;
      size_t largest = 0;
      for (const auto& r : ranges) {
        REQUIRE(r.begin == next);
        REQUIRE(r.end > r.begin);
        next = r.end;
        smallest = std::min(smallest, r.size());
        largest = std::max(largest, r.size());
      }
      REQUIRE(next == total);
      REQUIRE(largest - smallest <= 1);
    }
  }
  CHECK(split_ranges(10, 3) == std::vector<key_range>{{0, 4}, {4, 7}, {7, 10}});
  CHECK(split_ranges(235146, 1) == std::vector<key_range>{{0, 235146}});
}
